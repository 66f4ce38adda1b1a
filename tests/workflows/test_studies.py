"""Studies: the workflow gives the numbers of the domain calls it stands for."""

from __future__ import annotations

import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import Controls, ReactivePowerControl, simulate
from gridtwin.network.checks import check, compare_checks
from gridtwin.network.contingency import GridLimits, contingency_analysis, hosting_capacity
from gridtwin.network.scenarios import ElectrificationSpec, add_pv, electrify
from gridtwin.workflows import (
    PvSpec,
    Twin,
    contingency_study,
    hosting_study,
    qu_study,
    scenario_study,
)
from tests.network.util import LV_CODE, simbench_model

DAY = slice(0, 96 * 3)


def test_electrification_study_equals_the_calls_by_hand() -> None:
    model = simbench_model(LV_CODE)
    spec = ElectrificationSpec(share=1.0, ev_kw=11.0, ev_share=0.5, heat_pump_share=0.8)
    result = scenario_study(Twin(model), "electrify", electrification=spec, steps=DAY)
    future, change = electrify(model, spec)
    before = check(model, simulate(model, steps=DAY))
    after = check(future, simulate(future, steps=DAY))
    pd.testing.assert_frame_equal(result.comparison, compare_checks(before, after))
    assert result.notes == change.notes
    again = scenario_study(
        Twin(model), "electrify", electrification=spec, steps=DAY, before=result.before
    )
    assert again.before is result.before  # not run twice
    pd.testing.assert_frame_equal(again.comparison, result.comparison)


def test_pv_with_and_without_q_of_u() -> None:
    model = simbench_model(LV_CODE)
    pv_spec = PvSpec(share=1.0, kwp=25.0)
    v_pu, q = (0.93, 0.97, 1.03, 1.07), (0.436, 0.0, 0.0, -0.436)
    with_pv, with_qu = qu_study(Twin(model), pv_spec, v_pu, q)
    pv, _ = add_pv(model, share=1.0, kwp=25.0)
    sgens = tuple(int(i) for i in pv.net.sgen.index[pv.net.sgen.type == "PV"])
    by_hand = simulate(pv, controls=Controls(reactive_power=[ReactivePowerControl(sgens, v_pu, q)]))
    assert with_qu.power_flow.vm_pu.max() == by_hand.vm_pu.max()  # type: ignore[union-attr]
    assert with_qu.power_flow.vm_pu.max() < with_pv.power_flow.vm_pu.max()  # type: ignore[union-attr]


def test_contingency_and_hosting_studies() -> None:
    model = simbench_model(LV_CODE)
    pd.testing.assert_frame_equal(contingency_study(model), contingency_analysis(model))
    pd.testing.assert_frame_equal(
        hosting_study(model, "load", vm_max_pu=1.05),
        hosting_capacity(model, kind="load", limits=GridLimits(vm_max_pu=1.05)),
    )
    with pytest.raises(InputError, match="use pv or load"):
        hosting_study(model, "wind")  # type: ignore[arg-type]
