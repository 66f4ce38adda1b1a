"""The heat network's characteristics and example inputs, beside ``POST /norms``
(capabilities): each pump type's H(Q) and ηн(Q), each station's N(G), joint H(G) and
ηн·ηд, the network curve and the method's operating points, and which of the method's
forms are reconstructions of the seed's lost formulas (analyst); the example inputs of
the source tree (viewer).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from gridtwin.errors import NotFoundError
from gridtwin.service.api._common import InputModel, OutputModel
from gridtwin.service.deps import Analyst, AuditDep, StateDep, Viewer

__all__ = ["router"]

router = APIRouter(tags=["capabilities"])

#: The example inputs of the source tree (examples/heatnet/*.yaml), when it is there.
_NORMS_EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "heatnet"


class NormsExampleOut(OutputModel):
    """One example input of a territorial unit (as ``units[i]`` of ``POST /norms``)."""

    name: str
    title: str
    unit: dict[str, Any]


class NormsExamplesOut(OutputModel):
    """The example inputs."""

    examples: list[NormsExampleOut]


def _norms_examples() -> NormsExamplesOut:
    if not _NORMS_EXAMPLES.is_dir():
        msg = (
            "the norms examples ship with gridtwin's source tree (examples/heatnet), which "
            "this installation does not have; send your own input to POST /api/v1/norms"
        )
        raise NotFoundError(msg)
    files = sorted(_NORMS_EXAMPLES.glob("*.yaml"), key=lambda p: p.stem.split("-"))
    return _read_examples(tuple((p, p.stat().st_mtime_ns) for p in files))


@functools.lru_cache(maxsize=4)
def _read_examples(files: tuple[tuple[Path, int], ...]) -> NormsExamplesOut:
    """The examples' YAML read once per version of the files (parsing costs ~0.1 s)."""
    import yaml

    out = []
    for path, _ in files:
        unit = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(NormsExampleOut(name=path.stem, title=str(unit.get("title", "")), unit=unit))
    return NormsExamplesOut(examples=out)


@router.get("/norms/examples", summary="Example inputs of the pumping-station norms")
async def norms_examples(user: Viewer, state: StateDep) -> NormsExamplesOut:
    """The worked example of seed 002 and its variant, as JSON inputs for ``POST /norms``
    and ``POST /norms/characteristics`` (from the source tree's ``examples/heatnet``)."""
    return await state.run(_norms_examples)


class CharacteristicsIn(InputModel):
    """One territorial unit's input, its curves wanted at ``n_points`` flows."""

    unit: dict[str, Any] = Field(
        description="As one of units of POST /norms (title, options, pumps, stations, "
        "past_year and/or coming_year)."
    )
    n_points: int = Field(default=41, ge=2, le=201, description="Flows per curve.")


class PumpCurvesOut(OutputModel):
    """One pump type's head and efficiency over its usable range."""

    name: str
    status: str | None = Field(description="confirmed, seed, reconstructed or assumed.")
    source: str | None
    motor_efficiency: float
    flow_m3_per_h: list[float]
    head_m: list[float]
    efficiency: list[float] = Field(description="Pump efficiency ηн [fraction].")


class MarkOut(OutputModel):
    """An operating point (unit power without Kсн)."""

    kind: Literal["design", "actual", "coming", "crossing"]
    flow_t_per_h: float
    head_m: float | None
    power_kw: float | None


class SeasonCurvesOut(OutputModel):
    """One station in one season against its flow G [t/h]."""

    station: str
    season: str
    source: str = Field(description="pump curves or measured.")
    regimes: list[str]
    flow_t_per_h: list[float]
    head_m: list[float | None] = Field(description="Joint characteristic H(G) [m].")
    power_kw: list[float] = Field(description="N(G) of the pump units, without Kсн [kW].")
    unit_efficiency: list[float | None] = Field(description="ηн·ηд [fraction].")
    regime: list[str] = Field(description="The regime the method picks at each flow.")
    network_resistance: float | None = Field(description="S of H = S·G² [m/(t/h)²].")
    network_head_m: list[float | None] = Field(description="The network curve H(G) [m].")
    marks: list[MarkOut]


class FormulaFlagOut(OutputModel):
    """One of the method's forms and its status (the seed's formulas are lost)."""

    number: str
    clause: str
    quantity: str
    form: str
    status: str = Field(description="seed (in the surviving text), reconstructed, assumed.")


class CharacteristicsOut(OutputModel):
    """The unit's characteristics to plot, and which forms are reconstructions."""

    title: str
    pumps: list[PumpCurvesOut]
    seasons: list[SeasonCurvesOut]
    formulas: list[FormulaFlagOut]
    notes: list[str]


def _characteristics(body: CharacteristicsIn) -> CharacteristicsOut:
    from gridtwin.heatnet.curves import characteristics
    from gridtwin.heatnet.schema import input_from_dict

    c = characteristics(input_from_dict(body.unit, "unit"), body.n_points)
    # the dataclasses read as they are (NaN never occurs: the curves give None off-curve)
    return CharacteristicsOut.model_validate(c, from_attributes=True)


@router.post(
    "/norms/characteristics", summary="Pump and station characteristics (district heating)"
)
async def norms_characteristics(
    user: Analyst, state: StateDep, audit: AuditDep, body: CharacteristicsIn
) -> CharacteristicsOut:
    """Each pump type's H(Q) and ηн(Q); each station's N(G), joint H(G) and ηн·ηд per
    season, the network curve through the design point and the method's operating
    points (the library's ``heatnet.curves.characteristics``); which forms are
    reconstructions of the lost formulas."""
    audit.obj = "norms=characteristics"
    return await state.run(_characteristics, body)
