"""Shared builders for the heatnet tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from gridtwin.calendar._library import read_data_file
from gridtwin.errors import InputError
from gridtwin.heatnet import NormsInput, input_from_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "heatnet" / "seed-example.yaml"
VARIANT = ROOT / "examples" / "heatnet" / "seed-example-variant.yaml"


def example_dict(path: Path = EXAMPLE) -> dict[str, Any]:
    """The example file as a fresh mapping (edit it freely)."""
    return copy.deepcopy(read_data_file(path, InputError))


def example_input(path: Path = EXAMPLE, **options: Any) -> NormsInput:
    """The example, optionally with method options overridden."""
    data = example_dict(path)
    data.setdefault("options", {}).update(options)
    return input_from_dict(data, path.name)


def small_case(**past: Any) -> dict[str, Any]:
    """One station, one pump type with H = 100 − 1e-4·Q², ηн = 0.8, ηд = 0.5 (hand-checkable)."""
    data: dict[str, Any] = {
        "title": "small",
        "pumps": {
            "A": {
                "motor_efficiency": 0.5,
                "head": {
                    "form": "parabola",
                    "shutoff_head_m": 100.0,
                    "drop_coefficient_m_per_m3_per_h_sq": 1e-4,
                },
                "efficiency": {"form": "constant", "value": 0.8},
            }
        },
        "stations": {"S": {"regimes": {"winter": {"A": 1}, "summer": {"A": 1}}}},
        "past_year": {
            "hours_h": {"winter": 5000, "summer": 3000},
            "network_flow_t_per_h": {
                "winter": {"design_t_per_h": 1000, "actual_t_per_h": 1100},
                "summer": {"design_t_per_h": 500, "actual_t_per_h": 500},
            },
            "reserves_factor": 0.1,
            "task": 0.5,
            "stations": {
                "S": {
                    "winter": {"design_flow_t_per_h": 500},
                    "summer": {"design_flow_t_per_h": 300},
                }
            },
        },
    }
    data["past_year"].update(past)
    return data
