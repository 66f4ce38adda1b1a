"""Tests of register readings from bills and the consumption per band between them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gridtwin.errors import DataQualityError, InputError
from gridtwin.ingest import (
    READING_KINDS,
    RegisterReading,
    consumption_by_register,
    read_register_readings,
)

HEADER = "pod,register,read_date,value_kwh,kind"
POD = "IT001E12345678"
JAN, FEB = date(2024, 1, 31), date(2024, 2, 29)


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    """Write a readings CSV (header + rows)."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def bill_rows(feb_kind: str = "actual", feb_f2: float = 2600.0) -> list[str]:
    """Opening (31 Jan) and closing (29 Feb) readings of F1, F2, F3."""
    return [
        f"{POD},F1,2024-01-31,1000.5,actual",
        f"{POD},F2,2024-01-31,2500,actual",
        f"{POD},F3,2024-01-31,4000,self_read",
        f"{POD},F1,2024-02-29,1100.5,{feb_kind}",
        f"{POD},F2,2024-02-29,{feb_f2},actual",
        f"{POD},F3,2024-02-29,4210,actual",
    ]


# --------------------------------------------------------------------------- reading the file


def test_reads_typed_readings_in_file_order(tmp_path: Path) -> None:
    readings = read_register_readings(write_csv(tmp_path / "r.csv", bill_rows()))
    assert len(readings) == 6
    assert readings[0] == RegisterReading(POD, "F1", JAN, 1000.5, "actual")
    assert readings[2].kind == "self_read"
    assert readings[5].read_date == FEB
    assert readings[5].value_kwh == 4210.0


def test_extra_columns_and_whitespace_are_tolerated(tmp_path: Path) -> None:
    rows = [f" {POD} , F1 , 2024-01-31 , 12 , Estimated ,note"]
    readings = read_register_readings(write_csv(tmp_path / "r.csv", rows, HEADER + ",comment"))
    assert readings == [RegisterReading(POD, "F1", JAN, 12.0, "estimated")]


def test_missing_column_names_file_expected_and_found(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv", [f"{POD},F1,2024-01-31,1"], header="pod,register,read_date,value_kwh"
    )
    with pytest.raises(InputError, match=r"r.csv: missing column\(s\) \['kind'\].*found"):
        read_register_readings(path)


def test_semicolon_file_gets_a_hint(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [], header=HEADER.replace(",", ";"))
    with pytest.raises(InputError, match="semicolon"):
        read_register_readings(path)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (f"{POD},F1,31/01/2024,1,actual", "read_date", "not an ISO date"),
        (f"{POD},F1,2024-01-31,1.234,5,actual", "kind", "unknown kind"),
        (f"{POD},F1,2024-01-31,abc,actual", "value_kwh", "not a number"),
        (f"{POD},F1,2024-01-31,-3,actual", "value_kwh", "non-negative"),
        (f"{POD},F1,2024-01-31,nan,actual", "value_kwh", "finite"),
        (",F1,2024-01-31,1,actual", "pod", "empty"),
        (f"{POD},,2024-01-31,1,actual", "register", "empty"),
    ],
)
def test_invalid_field_names_file_row_and_field(
    tmp_path: Path, row: str, field: str, reason: str
) -> None:
    path = write_csv(tmp_path / "r.csv", [f"{POD},F1,2024-01-31,1,actual", row])
    with pytest.raises(InputError, match=rf"r.csv: data row 2 .*'{field}'.*{reason}"):
        read_register_readings(path)


def test_unknown_kind_lists_the_allowed_kinds(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [f"{POD},F1,2024-01-31,1,guessed"])
    with pytest.raises(InputError, match="'guessed'; allowed: actual, estimated, self_read"):
        read_register_readings(path)
    assert READING_KINDS == ("actual", "estimated", "self_read")


@pytest.mark.parametrize(
    ("second", "word"), [("1,actual", "identical"), ("2,actual", "conflicting")]
)
def test_duplicate_readings_in_the_file_raise(tmp_path: Path, second: str, word: str) -> None:
    rows = [
        f"{POD},F1,2024-01-31,1,actual",
        f"{POD},F2,2024-01-31,1,actual",
        f"{POD},F1,2024-01-31,{second}",
    ]
    with pytest.raises(DataQualityError, match=rf"data rows 1 and 3 .*{word}"):
        read_register_readings(write_csv(tmp_path / "r.csv", rows))


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"none\.csv: file not found"):
        read_register_readings(tmp_path / "none.csv")


def test_reading_validates_itself() -> None:
    with pytest.raises(InputError, match="unknown kind 'guess'"):
        RegisterReading(POD, "F1", JAN, 1.0, "guess")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="non-negative"):
        RegisterReading(POD, "F1", JAN, -1.0, "actual")


# --------------------------------------------------------------------------- consumption


def test_consumption_per_band(tmp_path: Path) -> None:
    readings = read_register_readings(write_csv(tmp_path / "r.csv", bill_rows()))
    result = consumption_by_register(readings, JAN, FEB)
    assert result.pod == POD
    assert (result.start, result.end) == (JAN, FEB)
    assert result.energy_kwh_by_band == {"F1": 100.0, "F2": 100.0, "F3": 210.0}
    assert result.reading_kinds["F3"] == ("self_read", "actual")
    assert result.estimated is False


def test_an_estimated_reading_flags_the_result(tmp_path: Path) -> None:
    readings = read_register_readings(write_csv(tmp_path / "r.csv", bill_rows("estimated")))
    result = consumption_by_register(readings, JAN, FEB)
    assert result.estimated is True
    assert result.reading_kinds["F1"] == ("actual", "estimated")


def test_decreasing_index_is_a_data_quality_error(tmp_path: Path) -> None:
    readings = read_register_readings(write_csv(tmp_path / "r.csv", bill_rows(feb_f2=2400)))
    with pytest.raises(
        DataQualityError,
        match=r"register 'F2'.*2500.0 kWh.*2400.0 kWh.*meter replaced or "
        r"rollover\? supply a correction",
    ):
        consumption_by_register(readings, JAN, FEB)


def test_register_missing_on_one_date_is_named(tmp_path: Path) -> None:
    rows = bill_rows()[:-1]  # no F3 on 29 Feb
    readings = read_register_readings(write_csv(tmp_path / "r.csv", rows))
    with pytest.raises(InputError, match=r"no reading of register\(s\) F3 on 2024-02-29 \(end\)"):
        consumption_by_register(readings, JAN, FEB)


def test_no_reading_on_a_date_lists_the_available_dates(tmp_path: Path) -> None:
    readings = read_register_readings(write_csv(tmp_path / "r.csv", bill_rows()))
    with pytest.raises(InputError, match=r"no reading on 2024-03-31 \(end\).*2024-01-31, 2024-02"):
        consumption_by_register(readings, JAN, date(2024, 3, 31))


def test_several_pods_need_pod_argument(tmp_path: Path) -> None:
    other = [r.replace(POD, "IT001E99999999") for r in bill_rows(feb_f2=3000)]
    readings = read_register_readings(write_csv(tmp_path / "r.csv", bill_rows() + other))
    with pytest.raises(InputError, match="pass pod="):
        consumption_by_register(readings, JAN, FEB)
    result = consumption_by_register(readings, JAN, FEB, pod="IT001E99999999")
    assert result.energy_kwh_by_band["F2"] == 500.0


def test_repeated_identical_readings_are_allowed_conflicting_ones_not() -> None:
    opening = RegisterReading(POD, "total", JAN, 10.0, "actual")
    closing = RegisterReading(POD, "total", FEB, 25.0, "estimated")
    result = consumption_by_register([opening, closing, closing], JAN, FEB)
    assert result.energy_kwh_by_band == {"total": 15.0}
    conflicting = RegisterReading(POD, "total", FEB, 26.0, "actual")
    with pytest.raises(DataQualityError, match="conflicting readings on 2024-02-29"):
        consumption_by_register([opening, closing, conflicting], JAN, FEB)


def test_start_must_precede_end() -> None:
    reading = RegisterReading(POD, "F1", JAN, 1.0, "actual")
    with pytest.raises(InputError, match="must be before"):
        consumption_by_register([reading], FEB, JAN)
