"""The options objects of simulate: validated when made, with errors that say what to do."""

from __future__ import annotations

import pytest

from gridtwin.errors import InputError
from gridtwin.network import (
    DEFAULT_CHUNK_STEPS,
    Controls,
    KeepFull,
    KeepSummary,
    PowerFactorControl,
    PowerFlowOptions,
    ReactivePowerControl,
    StatisticsSpec,
    TapControl,
    simulate,
)
from gridtwin.network._options import FIXED_POINT_MAX_ITERATIONS, PGM_MAX_ITERATIONS
from tests.network.util import feature_model


def test_defaults_and_the_method_auto_resolves_per_symmetry() -> None:
    o = PowerFlowOptions()
    assert (o.method, o.symmetric, o.chunk_steps, o.threading) == (
        "auto",
        True,
        DEFAULT_CHUNK_STEPS,
        -1,
    )
    assert o.solver == "fixed_point"
    assert PowerFlowOptions(symmetric=False).solver == "iterative_current"
    assert PowerFlowOptions(method="newton_raphson").solver == "newton_raphson"
    assert o.iteration_limit("fixed_point") == FIXED_POINT_MAX_ITERATIONS
    assert o.iteration_limit("newton_raphson") == PGM_MAX_ITERATIONS
    assert PowerFlowOptions(max_iterations=7).iteration_limit("fixed_point") == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "gauss_seidel"}, "method must be one of 'auto', 'fixed_point'"),
        ({"zero_sequence": "zero"}, "zero_sequence must be one of 'net', 'lv_cable_4x'"),
        ({"trafo_model": "x"}, "trafo_model must be one of 't', 'pi'"),
        ({"chunk_steps": 0}, "chunk_steps must be >= 1"),
        ({"load_phases": {0: "a"}}, "pass symmetric=False"),
        ({"method": "fixed_point", "symmetric": False}, "balanced power flows only"),
        ({"error_tolerance_pu": 0.0}, "error_tolerance_pu must be > 0"),
        ({"max_iterations": 0}, "max_iterations must be >= 1"),
        ({"threading": -2}, "threading must be -1"),
    ],
)
def test_bad_options_are_refused_when_made(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        PowerFlowOptions(**kwargs)  # type: ignore[arg-type]


def test_controls_hold_tuples_of_their_own_kind() -> None:
    tap = TapControl(0, 0.98, 1.02)
    controls = Controls(taps=[tap])
    assert controls.taps == (tap,)
    assert controls.need_fixed_point
    pf = PowerFactorControl((0,), (0.0, 1.0), (1.0, 0.9))
    assert not Controls(power_factor=[pf]).need_fixed_point
    qu = ReactivePowerControl((0,), (0.9, 1.1), (0.1, -0.1))
    assert Controls(reactive_power=[qu]).need_fixed_point
    with pytest.raises(InputError, match=r"Controls\.taps: expected TapControl objects"):
        Controls(taps=[pf])  # type: ignore[list-item]


def test_keep_objects_and_misplaced_arguments() -> None:
    model = feature_model()
    with pytest.raises(InputError, match="statistics must be a StatisticsSpec"):
        KeepSummary(statistics="bands")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"wrap statistics as keep=KeepSummary"):
        simulate(model, keep=StatisticsSpec())  # type: ignore[call-overload]
    with pytest.raises(InputError, match="options must be a PowerFlowOptions"):
        simulate(model, options={"method": "auto"})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="controls must be a Controls"):
        simulate(model, controls=[TapControl(0, 0.98, 1.02)])  # type: ignore[arg-type]
    full = simulate(model, keep=KeepFull())
    assert full.vm_pu.shape[0] == full.n_steps
    with pytest.raises(InputError, match="need the fixed-point solver"):
        simulate(
            model,
            options=PowerFlowOptions(method="iterative_current"),
            controls=Controls(taps=[TapControl(0, 0.98, 1.02)]),
        )


def test_the_cli_default_chunk_size_is_the_library_default() -> None:
    from gridtwin.cli.network import DEFAULT_CHUNK_STEPS_HELP

    assert DEFAULT_CHUNK_STEPS_HELP == DEFAULT_CHUNK_STEPS
