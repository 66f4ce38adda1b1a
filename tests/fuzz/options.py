"""Fuzzing the options themselves (issue 17): valid files, odd option values.

Each case is a command on valid seed files and, per option, the values drawn from: some
valid, many odd (:data:`ODD`). A value known to be invalid for its option (the issue's
``--steps 5:2``, ``--prop resident=maybe``, ...) makes exit 0 a failure.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.fuzz.corpus import command_args

#: Values any option may be given.
ODD = (
    "", "-1", "0", "1e308", "nan", "inf", "-inf", "9223372036854775808", "abc", "xml", "5:2",
    ":", "::", "0:0", "-5", "100000", "ü", "2025-02-30", "1:", ":1", "true", "=", "a=b",
)  # fmt: skip

#: (command, {option: valid values}): odd values are mixed in.
OPTION_CASES: tuple[tuple[tuple[str, ...], dict[str, tuple[str, ...]]], ...] = (
    (
        ("bill", "--tariff", "it-offerta-pun-0028", "--data", "{interval_it}", "--series",
         "PUN={series_csv}"),
        {
            "--prop": ("resident=true", "contracted_kw=3", "resident=maybe", "contracted_kw=-1",
                       "contracted_kw=0", "contracted_kw=inf", "contracted_kw=1e308", "x=1",
                       "resident", "=true"),
            "--period": ("2025-01-06:2025-01-13", "2025-01-13:2025-01-06", "2025-01-06",
                         "2025-01-06:2025-01-06", "2025-01-01:2026-01-01", "0001-01-01:9999-12-31"),
            "--timezone": ("Europe/Rome", "UTC", "Mars/Base", "+01:00"),
            "--meter": ("m0", "m9"),
            "--format": ("table", "json", "csv"),
            "--output": ("{OUT}.csv", "{OUT}.parquet", "/nonexistent/x.csv", "/", "{OUT}"),
        },
    ),
    (
        ("compare", "--tariff", "it-offerta-fissa-monoraria-0136", "--tariff",
         "it-offerta-trioraria-esempio", "--data", "{interval_it}", "--prop", "resident=true"),
        {
            "--prop": ("contracted_kw=3", "contracted_kw=nan", "resident=no", "contracted_kw=0"),
            "--period": ("2025-01-06:2025-01-13", "2025-01-13:2025-01-06"),
            "--meter": ("m0", "m1", "nope"),
            "--format": ("table", "json", "csv"),
        },
    ),
    (
        ("network", "simulate", "--net", "{net_json}"),
        {
            "--steps": ("0:1", "5:2", "0:0", "-1:1", "0:9223372036854775808", "a:b"),
            "--threads": ("-1", "0", "1", "-5", "100000"),
            "--chunk-steps": ("1", "0", "-3"),
            "--method": ("auto", "newton", "bogus"),
            "--format": ("table", "json"),
        },
    ),
    (
        ("norms", "characteristic", "{norms_yaml}"),
        {
            "--points": ("2", "5", "1", "1000", "1001", "100000", "-3"),
            "--station": ("I", "IV", "nope"),
            "--season": ("winter", "summer", "spring"),
            "--format": ("table", "json", "csv"),
        },
    ),
    (
        ("quality", "report", "{pq_csv}", "--output", "{OUT}.html"),
        {
            "--timezone": ("Europe/Moscow", "UTC", "Nowhere/Land"),
            "--week-start": ("mon 00:00", "sun 23:59", "2025-06-02T00:00+03:00", "someday"),
            "--max-points": ("1", "0", "-1", "100000"),
            "--standard": ("GOST 32144-2013", "EN 50160:2010", "none"),
            "--voltage-level": ("LV", "MV", "HV"),
            "--nominal-v": ("220", "0", "-230", "inf", "1e308"),
        },
    ),
    (
        ("quality", "assess", "{pq_csv}"),
        {
            "--timezone": ("Europe/Moscow", "UTC"),
            "--voltage-unit": ("auto", "V", "kV", "pu", "percent", "mV"),
            "--label": ("start", "end", "middle"),
            "--layout": ("auto", "long", "wide", "tall"),
            "--nominal-line-v": ("380", "0", "-1"),
            "--format": ("table", "json", "csv"),
        },
    ),
    (
        ("tariffs", "revision"),
        {
            "--level": ("LV_general", "HV_general", "bogus"),
            "--table": ("revision", "private-deal", "system-management", "nope"),
            "--format": ("table", "json", "csv"),
        },
    ),
)  # fmt: skip

#: (option, value) pairs that are invalid for sure.
INVALID = frozenset(
    {
        ("--prop", "resident=maybe"), ("--prop", "contracted_kw=-1"),
        ("--prop", "contracted_kw=0"), ("--prop", "contracted_kw=inf"),
        ("--prop", "contracted_kw=nan"), ("--period", "2025-01-13:2025-01-06"),
        ("--timezone", "Mars/Base"), ("--meter", "m9"), ("--meter", "nope"),
        ("--steps", "5:2"), ("--steps", "a:b"), ("--threads", "-5"), ("--chunk-steps", "0"),
        ("--chunk-steps", "-3"), ("--method", "bogus"), ("--points", "100000"),
        ("--points", "-3"), ("--points", "1001"), ("--season", "spring"),
        ("--max-points", "-1"), ("--voltage-level", "HV"), ("--label", "middle"),
        ("--layout", "tall"), ("--level", "bogus"), ("--table", "nope"),
        ("--format", "xml"), ("--nominal-v", "-230"), ("--nominal-v", "inf"),
        ("--output", "/nonexistent/x.csv"), ("--output", "/"),
    }
)  # fmt: skip


def option_args(
    rng: random.Random, seeds: dict[str, Path], folder: Path
) -> tuple[list[str], bool, str]:
    """A command with one to three of its options set to drawn values; whether one of
    them is surely invalid; a short name of the draw."""
    command, options = rng.choice(OPTION_CASES)
    args = list(command)
    invalid = False
    names = []
    for option in rng.sample(list(options), k=min(len(options), rng.randint(1, 3))):
        value = rng.choice(options[option]) if rng.random() < 0.6 else rng.choice(ODD)
        args += [option, value]
        invalid |= (option, value) in INVALID or (
            option == "--format" and value not in options[option]
        )
        names.append(f"{option}={value[:20]}")
    return command_args(tuple(args), folder / "o", seeds), invalid, " ".join(names)
