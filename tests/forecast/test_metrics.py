"""The scores: against values computed by hand and against independent implementations
(utilsforecast's losses, properscoring's closed-form Gaussian CRPS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.forecast import (
    crps_quantiles,
    mae,
    mase,
    observed_range,
    pinball,
    rcrps,
    rmae,
    seasonal_naive_scale,
)


def test_mae_and_rmae_by_hand() -> None:
    y = np.array([1.0, 2.0, 3.0, np.nan])
    yhat = np.array([1.5, 2.0, 5.0, 7.0])
    assert mae(y, yhat) == pytest.approx((0.5 + 0 + 2) / 3)  # the NaN pair is left out
    rng = np.quantile([1.0, 2.0, 3.0], 0.99) - np.quantile([1.0, 2.0, 3.0], 0.01)
    assert rng == pytest.approx(1.96)
    assert observed_range(y) == pytest.approx(1.96)
    assert rmae(y, yhat) == pytest.approx((2.5 / 3) / 1.96)


def test_pinball_crps_rcrps_by_hand() -> None:
    # y = 10; P10 = 8 (under by 2: 0.1 * 2), P50 = 11 (over by 1: 0.5 * 1),
    # P90 = 12 (over by 2: 0.1 * 2): mean 0.3, CRPS = 2 * 0.3
    y = np.array([10.0])
    yq = np.array([[8.0, 11.0, 12.0]])
    assert pinball(y, yq, (0.1, 0.5, 0.9)) == pytest.approx(0.3)
    assert crps_quantiles(y, yq, (0.1, 0.5, 0.9)) == pytest.approx(0.6)
    y2 = np.array([10.0, 20.0])
    yq2 = np.array([[8.0, 11.0, 12.0], [20.0, 20.0, 20.0]])
    assert rcrps(y2, yq2, (0.1, 0.5, 0.9)) == pytest.approx((0.6 + 0) / 2 / (10 * 0.98))


def test_mase_by_hand() -> None:
    history = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 5.0])
    scale = seasonal_naive_scale(history, 4)  # |1-1|, |2-2|, |3-3|, |5-4|
    assert scale == pytest.approx(0.25)
    assert mase([1.0, 2.0], [1.5, 2.5], scale) == pytest.approx(2.0)
    with pytest.raises(InputError, match="more than one season"):
        seasonal_naive_scale(history[:4], 4)


def test_bad_quantile_levels_are_refused() -> None:
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        pinball([1.0], [[1.0, 2.0]], (0.0, 0.5))


def _frame(seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, tuple[float, ...]]:
    rng = np.random.default_rng(seed)
    q = (0.1, 0.25, 0.5, 0.75, 0.9)
    n = 200
    y = rng.gamma(3.0, 2.0, n)
    centre = y + rng.normal(0, 1.0, n)
    yq = np.sort(centre[:, None] + rng.normal(0, 1.0, (n, len(q))), axis=1)
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(n), "y": y, "m": yq[:, 2]})
    for j, level in enumerate(q):
        df[f"m-q-{int(level * 100)}"] = yq[:, j]
    return df, y, yq, q


def test_agrees_with_utilsforecast() -> None:
    from utilsforecast import losses

    df, y, yq, q = _frame()
    cols = [f"m-q-{int(level * 100)}" for level in q]
    got = losses.mqloss(df, models={"m": cols}, quantiles=np.array(q))
    assert float(got["m"].iloc[0]) == pytest.approx(pinball(y, yq, q), rel=1e-12)
    got = losses.scaled_crps(df, models={"m": cols}, quantiles=np.array(q))
    # scaled CRPS = 2 * mean pinball * n / sum|y| = our CRPS / mean|y|
    expected = crps_quantiles(y, yq, q) / np.mean(np.abs(y))
    assert float(got["m"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    got = losses.mae(df, models=["m"])
    assert float(got["m"].iloc[0]) == pytest.approx(mae(y, yq[:, 2]), rel=1e-12)
    train = pd.DataFrame({"unique_id": "a", "ds": np.arange(-50, 0), "y": np.sin(np.arange(50))})
    got = losses.mase(df, models=["m"], seasonality=7, train_df=train)
    scale = seasonal_naive_scale(train["y"].to_numpy(), 7)
    assert float(got["m"].iloc[0]) == pytest.approx(mase(y, yq[:, 2], scale), rel=1e-9)


def test_crps_from_dense_quantiles_matches_the_gaussian_closed_form() -> None:
    from properscoring import crps_gaussian
    from scipy.stats import norm

    levels = tuple((np.arange(999) + 0.5) / 999)
    y = np.array([-1.3, 0.0, 0.4, 2.2])
    yq = np.tile(norm.ppf(levels), (len(y), 1)) * 1.5 + 0.2
    exact = float(np.mean(crps_gaussian(y, mu=0.2, sig=1.5)))
    assert crps_quantiles(y, yq, levels) == pytest.approx(exact, rel=2e-3)
