"""Bad billing input is refused in words the user can act on, never a traceback or an
infinite bill (issue 17: the fuzzing campaign's billing causes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill, round_half_up
from gridtwin.errors import DataQualityError, InputError
from gridtwin.tariffs import get_tariff
from gridtwin.timeseries import IntervalData

IT = "it-offerta-fissa-monoraria-0136"


def _rome_month(value: float = 0.1) -> IntervalData:
    idx = pd.date_range(
        "2025-01-01", "2025-02-01", freq="15min", inclusive="left", tz="Europe/Rome"
    )
    return IntervalData(idx.tz_convert("UTC"), np.full((1, len(idx)), value), ("m0",), source="t")


@pytest.mark.parametrize(
    ("props", "said"),
    [
        ({"contracted_kw": float("inf")}, "contracted_kw=inf must be a finite number"),
        ({"contracted_kw": float("nan")}, "contracted_kw=nan must be a finite number"),
        ({"contracted_kw": -1.0}, "contracted_kw=-1 kW must be above zero"),
        ({"contracted_kw": 0.0}, "contracted_kw=0 kW must be above zero"),
        ({"contracted_kw": 3.0, "resident": "maybe"}, "resident='maybe' must be true or false"),
    ],
)
def test_customer_properties_are_checked(props: dict[str, object], said: str) -> None:
    customers = {"resident": True, "contracted_kw": 3.0} | props
    with pytest.raises(InputError, match=said.replace("(", r"\(")):
        bill(get_tariff(IT), _rome_month(), customers=customers)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1e308, float("inf"), 2e9])
def test_an_impossible_interval_value_is_named(value: float) -> None:
    data = _rome_month()
    data.energy_kwh[0, 7] = value
    with pytest.raises(DataQualityError, match=r"for meter m0 at 2025-01-01T00:45"):
        bill(get_tariff(IT), data, customers={"resident": True, "contracted_kw": 3.0})


def test_a_valid_bill_is_untouched_by_the_checks() -> None:
    result = bill(get_tariff(IT), _rome_month(), customers={"resident": True, "contracted_kw": 3.0})
    assert np.isfinite(result.amount).all()
    assert result.presented_totals()[0].sum() > 0


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e30])
def test_money_that_is_not_finite_is_not_presented(value: float) -> None:
    with pytest.raises(DataQualityError, match="not a finite amount"):
        round_half_up(value)


def test_an_unknown_meter_on_the_command_line_names_the_flag(tmp_path: Path) -> None:
    data = _rome_month()
    path = tmp_path / "d.csv"
    pd.DataFrame(
        {"timestamp": data.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "m0": data.energy_kwh[0]}
    ).to_csv(path, index=False)
    base = [sys.executable, "-m", "gridtwin"]
    props = ["--prop", "resident=true", "--prop", "contracted_kw=3"]
    for cmd in (["bill", "--tariff", IT], ["compare", "--tariff", IT, "--tariff", IT]):
        out = subprocess.run(
            [*base, *cmd, "--data", str(path), "--meter", "nope", *props],
            capture_output=True,
            text=True,
            check=False,
        )
        said = out.stdout + out.stderr
        assert out.returncode != 0
        assert "Traceback" not in said
        assert "--meter 'nope'" in said or "meter 'nope'" in said
        assert "--meter" in said
        assert "m0" in said
