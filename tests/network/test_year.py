"""A whole SimBench LV grid-year (35,136 quarter hours) in one simulate() call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridtwin.network import simulate
from tests.network.util import LV_CODE, simbench_model


@pytest.mark.slow
def test_full_lv_year_is_complete_and_converged() -> None:
    model = simbench_model(LV_CODE)
    res = simulate(model)
    assert res.n_steps == 35_136
    assert res.time_utc[-1] == pd.Timestamp("2016-12-31 23:45", tz="UTC")
    assert res.converged.all()
    assert not np.isnan(res.vm_pu).any()
    assert not np.isnan(res.line_loading_percent).any()
    assert not np.isnan(res.trafo_loading_percent).any()
    assert (res.p_loss_mw > 0).all()
    s = res.summary()
    assert 0.9 < s.vm_min_pu < s.vm_max_pu < 1.1
