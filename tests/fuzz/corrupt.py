"""Corruptions of valid inputs (issue 17): byte flips, truncation, dropped columns, cells of
the wrong type, extreme numbers, other encodings, deep nesting, broken net tables.

Every mutator takes the seed's bytes, its :class:`~tests.fuzz.corpus.Target` and a
``random.Random`` and returns a :class:`Mutation`: the corrupted bytes and whether the
result is invalid *for sure* (then exit 0 is a failure: the input was silently accepted).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fuzz.corpus import Target


@dataclass(frozen=True)
class Mutation:
    """A corrupted input: its bytes, the mutator's name and whether it is surely invalid."""

    data: bytes
    name: str
    invalid: bool = False


Mutator = Callable[[bytes, Target, random.Random], Mutation]

#: Cells of the wrong kind and extreme numbers.
CELLS = (
    "", "abc", "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e-320", "-1", "0", "-0",
    "9223372036854775808", "4611686018427387904", "true", "null", "0x1F", "1,5", '"', "ü",
    "2025-13-45T99:99Z", "NaT", " 1 ", "1" * 400, "\t", "2025-01-06T00:00:00+01:00",
    "2025-01-06T00:00:00", "Z", "1e9999",
)  # fmt: skip
#: Cells that are not numbers at all.
NOT_NUMBERS = frozenset({"abc", "true", "null", "0x1F", '"', "ü", "2025-13-45T99:99Z", "Z"})
#: Cells that are numbers but not finite (or that overflow to infinity).
NOT_FINITE = frozenset({"nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e9999"})
#: Values a structured file's node is replaced with (``__DEEP_n__``: n nested lists).
VALUES: tuple[Any, ...] = (
    None, "", "x", "ü" * 3, -1, 0, 1e308, -1e308, math.inf, -math.inf, math.nan, 2**63,
    -(2**63), 2**62, True, False, [], {}, "2025-02-30", "25:99", [1, "a", None], {"a": {}},
    "__DEEP_50__", "__DEEP_990__", "__DEEP_1500__", "x" * 10_000, 1e-320, 0.5,
)  # fmt: skip


def _split(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    return [line.split(",") for line in text.splitlines()]


def _join(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode("utf-8")


def flip(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """1 to 8 random bytes set to random values."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    return Mutation(bytes(buf), "flip")


def truncate(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """Cut anywhere; a Parquet file cut short (its footer gone) is surely invalid."""
    cut = rng.randrange(len(data))
    return Mutation(data[:cut], "truncate", invalid=target.kind == "parquet" or cut == 0)


def empty(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """An empty file."""
    return Mutation(b"", "empty", invalid=True)


def header_only(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """The header line alone (a table without rows)."""
    return Mutation(
        data.split(b"\n", 1)[0] + b"\n",
        "header_only",
        invalid=target.kind == "csv" and target.rows_required,
    )


def drop_column(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """One column removed; surely invalid when the reader requires it."""
    rows = _split(data)
    col = rng.randrange(len(rows[0]))
    name = rows[0][col]
    for row in rows:
        if col < len(row):
            row.pop(col)
    return Mutation(_join(rows), "drop_column", invalid=name in target.required)


def cell(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """One cell of the wrong kind or extreme; surely invalid when it is text in a number
    column, or not finite in an energy column."""
    rows = _split(data)
    r = rng.randrange(1, len(rows)) if len(rows) > 1 else 0
    c = rng.randrange(len(rows[r]))
    value = rng.choice(CELLS)
    rows[r][c] = value
    name = rows[0][c] if r and c < len(rows[0]) else ""
    invalid = (name in target.numeric and value in NOT_NUMBERS) or (
        name in target.finite and value in NOT_FINITE
    )
    return Mutation(_join(rows), f"cell:{value[:12]!r}", invalid=invalid)


def rows_shuffle(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """Rows duplicated, dropped, shuffled or made ragged."""
    rows = _split(data)
    head, body = rows[:1], rows[1:]
    how = rng.choice(("dup", "drop", "shuffle", "ragged", "short"))
    if body:
        i = rng.randrange(len(body))
        if how == "dup":
            body.insert(i, list(body[i]))
        elif how == "drop":
            body.pop(i)
        elif how == "shuffle":
            rng.shuffle(body)
        elif how == "ragged":
            body[i] = [*body[i], "1", "2"]
        else:
            body[i] = body[i][:1]
    return Mutation(_join(head + body), f"rows:{how}")


def encoding(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """Another encoding, a byte-order mark, CRLF, a NUL or a byte that is not UTF-8."""
    text = data.decode("utf-8")
    how = rng.choice(("utf16", "latin1", "bom", "crlf", "nul", "badbyte"))
    if how == "utf16":
        out = text.encode("utf-16")
    elif how == "latin1":
        out = text.encode("latin-1", errors="replace") + "é".encode("latin-1")
    elif how == "bom":
        out = b"\xef\xbb\xbf" + data
    elif how == "crlf":
        out = text.replace("\n", "\r\n").encode("utf-8")
    elif how == "nul":
        i = rng.randrange(len(data))
        out = data[:i] + b"\x00" + data[i:]
    else:
        i = rng.randrange(len(data))
        out = data[:i] + bytes([rng.choice((0x80, 0xC3, 0xE9, 0xFF))]) + data[i:]
    return Mutation(out, f"encoding:{how}")


def scale(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """Every number of the number columns multiplied by a huge or tiny factor."""
    rows = _split(data)
    factor = rng.choice((1e300, -1e300, 1e-300, -1.0, 1e12))
    cols = [i for i, n in enumerate(rows[0]) if n in target.numeric]
    for row in rows[1:]:
        for i in cols:
            if i < len(row):
                with contextlib.suppress(ValueError):
                    row[i] = repr(float(row[i]) * factor)
    invalid = bool(cols) and any(n in target.finite for n in rows[0]) and factor == 1e300
    return Mutation(_join(rows), f"scale:{factor:g}", invalid=invalid)


# --- structured files (YAML, JSON, pandapower JSON) ---------------------------------------


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


def _edit(doc: Any, rng: random.Random) -> tuple[Any, str]:
    """One node of ``doc`` deleted, replaced or given a sibling; the edit's name."""
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return rng.choice(VALUES), "root"
    path = rng.choice(paths)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    how = rng.choice(("replace", "replace", "replace", "delete", "add"))
    if how == "delete":
        del parent[path[-1]]
    elif how == "add" and isinstance(parent, dict):
        parent["unknown_field"] = rng.choice(VALUES)
    else:
        value = rng.choice(VALUES)
        parent[path[-1]] = value
        how = f"replace:{str(value)[:14]}"
    return doc, f"{how}@{'.'.join(map(str, path))[:60]}"


def _deep(text: str) -> tuple[str, bool]:
    """``__DEEP_n__`` placeholders as n nested flow lists; whether one is past 1,000."""
    deepest = 0
    for n in (50, 990, 1500):
        token = f"__DEEP_{n}__"
        if token in text:
            text = text.replace(token, "[" * n + "1" + "]" * n)
            deepest = max(deepest, n)
    return text, deepest > 1000


def structure(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """A YAML/JSON file parsed, one to three nodes edited, and written again."""
    import yaml

    doc = yaml.safe_load(data.decode("utf-8"))
    names = []
    for _ in range(rng.randint(1, 3)):
        doc, name = _edit(doc, rng)
        names.append(name)
    if target.kind == "json":
        text = json.dumps(doc, default=str)
    else:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)
    text, too_deep = _deep(text)
    return Mutation(text.encode("utf-8"), "structure:" + ";".join(names), invalid=too_deep)


def _net_tables(net: dict[str, Any]) -> list[str]:
    obj = net["_object"]
    return [
        k
        for k, v in obj.items()
        if isinstance(v, dict) and v.get("_class") == "DataFrame" and '"data":[[' in v["_object"]
    ]


def net_table(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """A pandapower net with one table broken: a column dropped, a cell or the index of
    the wrong kind or size, a dtype changed, the table removed; or a top field changed."""
    from gridtwin.network._net_check import REQUIRED

    net = json.loads(data)
    obj = net["_object"]
    tables = _net_tables(net)
    how = rng.choice(("drop", "cell", "cell", "index", "dtype", "remove", "top"))
    invalid = False
    if how == "top":
        key = rng.choice(("f_hz", "std_types", "format_version", "sn_mva", "name", "version"))
        value = rng.choice(VALUES)
        obj[key] = value
        invalid = key == "f_hz" and not (
            isinstance(value, int | float) and math.isfinite(value) and value > 0
        )
        return Mutation(json.dumps(net).encode(), f"net:top:{key}={str(value)[:10]}", invalid)
    name = rng.choice(tables)
    table = obj[name]
    if how == "remove":
        del obj[name]
        return Mutation(json.dumps(net).encode(), f"net:remove:{name}")
    frame = json.loads(table["_object"])
    cols: list[str] = frame["columns"]
    if how == "dtype" and isinstance(table.get("dtype"), dict) and table["dtype"]:
        col = rng.choice(list(table["dtype"]))
        table["dtype"][col] = rng.choice(("object", "int8", "bool", "float16", "nonsense"))
        return Mutation(json.dumps(net).encode(), f"net:dtype:{name}.{col}")
    if how == "drop" or how == "dtype":
        i = rng.randrange(len(cols))
        col = cols.pop(i)
        for row in frame["data"]:
            row.pop(i)
        if isinstance(table.get("dtype"), dict):
            table["dtype"].pop(col, None)
        invalid = col in REQUIRED.get(name, ())
        label = f"net:drop:{name}.{col}"
    elif how == "index":
        value = rng.choice((2**62, -1, 2**31, "a", 1.5, None))
        frame["index"][rng.randrange(len(frame["index"]))] = value
        invalid = value in (2**62, -1, 2**31, "a")
        label = f"net:index:{name}={value}"
    else:
        i = rng.randrange(len(cols))
        row = rng.choice(frame["data"])
        value = rng.choice(VALUES[:20])
        row[i] = value
        label = f"net:cell:{name}.{cols[i]}={str(value)[:10]}"
    table["_object"] = json.dumps(frame)
    return Mutation(json.dumps(net).encode(), label, invalid)


# --- Parquet --------------------------------------------------------------------------------


def parquet_frame(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """A Parquet file read, corrupted as CSV text would be, and written again with the
    columns' types as pandas infers them from the corrupted text."""
    import pandas as pd

    frame = pd.read_parquet(io.BytesIO(data))
    text = frame.to_csv(index=False).encode("utf-8")
    mutator = rng.choice((drop_column, cell, rows_shuffle, scale, header_only))
    m = mutator(text, target, rng)
    try:
        corrupted = pd.read_csv(io.BytesIO(m.data), dtype=rng.choice((None, str)))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        return Mutation(b"", f"parquet:{m.name}:empty", invalid=True)
    out = io.BytesIO()
    corrupted.to_parquet(out, index=False)
    return Mutation(out.getvalue(), f"parquet:{m.name}", m.invalid)


MUTATORS: dict[str, tuple[Mutator, ...]] = {
    "csv": (flip, truncate, empty, header_only, drop_column, cell, cell, cell, rows_shuffle,
            encoding, scale),
    "yaml": (flip, truncate, empty, encoding, structure, structure, structure, structure),
    "json": (flip, truncate, empty, encoding, structure, structure, structure, structure),
    "netjson": (flip, truncate, net_table, net_table, net_table, net_table, net_table),
    "parquet": (flip, truncate, parquet_frame, parquet_frame, parquet_frame),
}  # fmt: skip


def corrupt(data: bytes, target: Target, rng: random.Random) -> Mutation:
    """One corruption of ``data`` chosen by ``rng`` among those fit for its kind."""
    return rng.choice(MUTATORS[target.kind])(data, target, rng)
