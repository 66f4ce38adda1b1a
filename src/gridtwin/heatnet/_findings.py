"""Findings of the past year: per station (cl. 1.8, 3.7-3.8) and for the network (cl. 1.6, 2.6).

Plain sentences that compare the metered use Эф with the nominal Эном and the normative
Эн, report the flow correction (7) and explain the reserves Кр (8).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gridtwin.heatnet._results import PastStationResult
from gridtwin.heatnet.schema import NormsInput
from gridtwin.heatnet.station import SEASONS


def _pct(a: float, b: float) -> str:
    """``a`` against ``b`` as a signed percentage, e.g. ``+3.2 %``."""
    return f"{(a / b - 1.0) * 100.0:+.1f} %"


def _with_findings(r: PastStationResult, normative_kwh: float) -> PastStationResult:
    """The station with its share of ΣЭн [kWh] and its findings (cl. 1.8, 3.7-3.8)."""
    found: list[str] = []
    if r.flow_corrected and r.flow_correction_scale is not None:
        found.append(
            f"actual flow corrected by formula (7) ({r.flow_correction_law}): "
            f"×{r.flow_correction_scale:.4f}; Кэк = 1; Эном "
            f"{r.uncorrected_nominal_energy_kwh:,.0f} → {r.nominal_energy_kwh:,.0f} kWh"
        )
        if (
            r.metered_energy_kwh is not None
            and abs(r.nominal_energy_kwh / r.metered_energy_kwh - 1.0) > 0.01
        ):
            found.append(
                f"after the correction Эном still differs from Эф by "
                f"{_pct(r.nominal_energy_kwh, r.metered_energy_kwh)}: along a "
                f"fixed-speed pump curve N(G) is flatter than the {r.flow_correction_law} "
                f"law assumes; flow_correction_law invert_characteristic matches Эф"
            )
    if r.metered_energy_kwh is not None:
        ef, en, enorm = r.metered_energy_kwh, r.nominal_energy_kwh, normative_kwh
        if ef > en:
            found.append(
                f"metered {ef:,.0f} kWh is above the nominal {en:,.0f} kWh "
                f"({_pct(ef, en)}): shortfalls in the station's own operation "
                f"(pump combination or control not optimal, worn units; cl. 1.8)"
            )
        else:
            found.append(
                f"metered {ef:,.0f} kWh is within the nominal {en:,.0f} kWh ({_pct(ef, en)})"
            )
        word = "saving" if ef <= enorm else "overspend"
        found.append(
            f"{word} of {abs(enorm - ef):,.0f} kWh against the station's share of the "
            f"normative {enorm:,.0f} kWh ({_pct(ef, enorm)})"
        )
    else:
        found.append("no metered energy: the comparisons of cl. 3.7-3.8 are not possible")
    return replace(r, normative_energy_kwh=normative_kwh, findings=tuple(found))


@dataclass(frozen=True)
class _NetworkTotals:
    """The network's past-year sums the findings compare [kWh], and Кр (8)."""

    calculated_kwh: float
    nominal_kwh: float
    normative_kwh: float
    metered_kwh: float | None
    metered_count: int
    station_count: int
    reserves_factor: float


def _network_findings(inp: NormsInput, totals: _NetworkTotals) -> list[str]:
    """The network's findings: the reserves (cl. 1.6), then ΣЭф against ΣЭном and ΣЭн."""
    return [_reserves_finding(inp, totals), *_metered_findings(totals)]


def _flow_text(inp: NormsInput) -> str:
    """How the network's actual flows differ from the design ones, per season."""
    spec = inp.past_year
    flows = []
    if spec is not None and spec.network_flow_t_per_h is not None:
        for season in SEASONS:
            net = getattr(spec.network_flow_t_per_h, season)
            if net is not None:
                flows.append(f"{season} {_pct(net.actual_t_per_h, net.design_t_per_h)}")
    return (
        f"the network's actual flows differ from the design ones ({', '.join(flows)})"
        if flows
        else "actual flows differ from the design ones"
    )


def _reserves_finding(inp: NormsInput, t: _NetworkTotals) -> str:
    """The reserves ΣЭном − ΣЭр and Кр (8), with their causes (cl. 1.6)."""
    return (
        f"reserves ΣЭном − ΣЭр = {t.nominal_kwh - t.calculated_kwh:,.0f} kWh, "
        f"Кр = {t.reserves_factor:.4f} "
        f"(8): {_flow_text(inp)}; causes outside the station staff's control: consumer "
        f"systems out of adjustment, no automatic flow control at consumers (cl. 1.6)"
    )


def _metered_findings(t: _NetworkTotals) -> list[str]:
    """ΣЭф against ΣЭном (cl. 1.8) and ΣЭн (cl. 2.6), when every station is metered."""
    if t.metered_kwh is None:
        return [
            "no station has metered energy: ΣЭф cannot be compared with ΣЭном and ΣЭн (cl. 3.7-3.8)"
        ]
    if t.metered_count < t.station_count:
        return [
            f"ΣЭф = {t.metered_kwh:,.0f} kWh covers {t.metered_count} of {t.station_count} "
            f"stations; the network comparison needs every station metered"
        ]
    return [
        _nominal_comparison(t.metered_kwh, t.nominal_kwh),
        _normative_comparison(t.metered_kwh, t.normative_kwh),
    ]


def _nominal_comparison(total_metered: float, total_nom: float) -> str:
    """ΣЭф above ΣЭном (operating shortfalls, cl. 1.8) or within it."""
    if total_metered > total_nom:
        return (
            f"ΣЭф {total_metered:,.0f} kWh is above ΣЭном {total_nom:,.0f} kWh "
            f"({_pct(total_metered, total_nom)}): operating shortfalls of the "
            f"stations' staff (cl. 1.8)"
        )
    return (
        f"ΣЭф {total_metered:,.0f} kWh is within ΣЭном {total_nom:,.0f} kWh "
        f"({_pct(total_metered, total_nom)})"
    )


def _normative_comparison(total_metered: float, total_norm: float) -> str:
    """A real saving against ΣЭн (the task met, cl. 2.6) or an overspend."""
    if total_metered <= total_norm:
        return (
            f"real saving of {total_norm - total_metered:,.0f} kWh against "
            f"ΣЭн {total_norm:,.0f} kWh: the saving task was met (cl. 2.6)"
        )
    return (
        f"overspend of {total_metered - total_norm:,.0f} kWh against ΣЭн "
        f"{total_norm:,.0f} kWh: the saving task was not met; find the causes "
        f"(cl. 2.6)"
    )
