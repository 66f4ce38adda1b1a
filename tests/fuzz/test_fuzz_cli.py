"""Property-based fuzzing of every reader and command of the command line (issue 17).

A valid seed of each reader (interval CSV and Parquet, register readings, tariff YAML and
JSON, norms input, power-quality measurements, ``--events``, ``--feeders``, pandapower
JSON, ``--series``) is corrupted by hypothesis (byte flips, truncation, dropped columns,
cells of the wrong type, extreme numbers, encodings, nesting, broken net tables) and a
command reading it is run in-process. Each run must end with exit 0 and a result, or a
clear gridtwin error (exit 1, 2 or 3, a message, no traceback); never another exception,
and never exit 0 on an input that is invalid for sure. The options are fuzzed the same
way on valid files. ``bench/fuzz_campaign.py`` runs the same corruptions by the thousand.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.corpus import TARGETS, command_args, write_seeds
from tests.fuzz.corrupt import corrupt
from tests.fuzz.options import option_args
from tests.fuzz.outcome import invoke

#: Examples per reader: the whole set stays well under 90 s on two busy cores; the
#: campaign (``make fuzz``) tries thousands.
EXAMPLES = {"net_json": 4}
FUZZ = settings(
    max_examples=8,
    deadline=timedelta(seconds=60),  # one command on a shared machine; a hang fails
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_seeds(tmp_path_factory.mktemp("fuzz-seeds"))


def _check(args: list[str], invalid: bool, what: str) -> None:
    outcome = invoke(args, invalid=invalid)
    assert not outcome.bad, (
        f"{outcome.verdict} ({outcome.cause}) for {what}: gridtwin {' '.join(args)}\n"
        f"{outcome.output[-3000:]}"
    )


@pytest.mark.parametrize("reader", list(TARGETS))
def test_a_corrupted_file_ends_in_a_result_or_a_clear_error(
    reader: str, seeds: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = TARGETS[reader]
    seed = seeds[reader].read_bytes()
    folder = tmp_path_factory.mktemp(f"fuzz-{reader}")

    @settings(FUZZ, max_examples=EXAMPLES.get(reader, 8))
    @given(rng=st.randoms(use_true_random=False), which=st.integers(0, 10))
    def one(rng: random.Random, which: int) -> None:
        mutation = corrupt(seed, target, rng)
        path = folder / f"c_{seeds[reader].name}"
        path.write_bytes(mutation.data)
        command = target.commands[which % len(target.commands)]
        _check(command_args(command, path, seeds), mutation.invalid, mutation.name)

    one()


def test_odd_option_values_end_in_a_result_or_a_clear_error(
    seeds: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("fuzz-options")

    @settings(FUZZ, max_examples=12)
    @given(rng=st.randoms(use_true_random=False))
    def one(rng: random.Random) -> None:
        args, invalid, name = option_args(rng, seeds, folder)
        _check(args, invalid, name)

    one()


def test_the_seeds_are_valid(seeds: dict[str, Path], tmp_path: Path) -> None:
    """Every command exits 0 on its uncorrupted seed (else every corruption would be
    refused and the fuzzing would test nothing)."""
    for target in TARGETS.values():
        if target.name == "net_json":
            continue  # validate/simulate on the seed net: tests/network
        command = target.commands[0]
        out = invoke(command_args(command, seeds[target.name], seeds))
        assert out.verdict == "ok", (target.name, out.output[-2000:])
