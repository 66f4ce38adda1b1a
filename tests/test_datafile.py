"""The YAML/TOML reader behind tariffs, norms and limit sets: files that are not UTF-8,
or nested beyond reason, are errors naming the file and the fix, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtwin._datafile import read_data_file
from gridtwin.errors import InputError


def test_a_file_in_another_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes("id: x\nname: Tarifa eléctrica\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"t\.yaml: line 2: not UTF-8 text \(byte 0xe9\); save"):
        read_data_file(path, InputError)


def test_reasonable_nesting_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("id: x\nfoo: " + "[" * 50 + "]" * 50 + "\n", encoding="utf-8")
    assert read_data_file(path, InputError)["id"] == "x"


@pytest.mark.parametrize(
    "body",
    [
        "foo: " + "[" * 100_000 + "]" * 100_000,  # libyaml would crash the process
        "foo: " + "{a: " * 2_000 + "1" + "}" * 2_000,
        "\n".join(" " * (2 * i) + f"k{i}:" for i in range(1_500)) + " 1",
    ],
    ids=["lists", "mappings", "indentation"],
)
def test_deep_nesting_is_refused_before_parsing(tmp_path: Path, body: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("id: x\n" + body + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t\.yaml: nested too deeply"):
        read_data_file(path, InputError)


def test_toml_in_another_encoding_too(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_bytes('id = "x"\nname = "\xe9"\n'.encode("latin-1"))
    with pytest.raises(InputError, match="line 2: not UTF-8"):
        read_data_file(path, InputError)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "the file is empty; it needs a header (point_id,feeder)"),
        (b"point_id,feeder\nA,f1\n\xe9,f2\n", "not UTF-8 text (byte 0xe9)"),
        (b'point_id,feeder\nA,"f1\n', "not a CSV file of point_id,feeder"),
    ],
)
def test_small_csv_files_name_their_problem(tmp_path: Path, content: bytes, said: str) -> None:
    from gridtwin._datafile import read_csv_text

    path = tmp_path / "feeders.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=said.replace("(", r"\(").replace(")", r"\)")):
        read_csv_text(path, "point_id,feeder")


def test_quality_feeder_and_event_files_use_it(tmp_path: Path) -> None:
    from gridtwin.workflows.quality import read_event_table, read_feeder_map

    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"e\.csv: the file is empty"):
        read_feeder_map(empty)
    with pytest.raises(InputError, match=r"e\.csv: the file is empty"):
        read_event_table(empty)
