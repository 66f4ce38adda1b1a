"""Protection checks of LV feeders (IEC 60364-4-43, IEC 60364-4-41, IEC 60269-1).

A *feeder* is a line leaving a transformer's LV busbar with everything behind it (id
``line:<index>`` of its head line). Its protective device sits at the busbar; by default a
gG fuse sized from the feeder's cable (:func:`default_fuse`: the largest standard rating
with ``I_n <= I_z`` and ``I_2 <= 1.45 I_z``, where ``I_z`` is the smallest permissible
current of the feeder's lines, ``max_i_ka * df * parallel``). Devices may be given per
feeder instead.

Checks per feeder:

- overload (IEC 60364-4-43 §433.1): ``I_b <= I_n <= I_z`` and ``I_2 <= 1.45 I_z``, with
  ``I_b`` the largest current of the head line in the power flow;
- breaking capacity: maximum three-phase current at the busbar (IEC 60909, maximum case)
  not above the device's rated breaking capacity;
- automatic disconnection (IEC 60364-4-41 §411.3.2, TN system, U0 = 230 V): the minimum
  single-phase fault current at the far end of the feeder (the bus with the smallest
  ``I"k1 min``) at least the current that operates the device within the disconnection
  time (5 s for distribution circuits, 0.4 s for final circuits: Table 41.1);
- selectivity with the transformer's LV main fuse (gG, the next standard rating at or above
  the transformer's rated LV current): rating ratio at least 1.6 (gG selectivity ratio).

After a scenario (:func:`scenario_protection`), feeders whose load outgrows their device
are re-fused with the smallest standard rating above the new ``I_b``; the feeders that then
lose sensitivity (disconnection), selectivity or cable protection are reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._fuses import (
    ProtectiveDevice,
    default_fuse,
    fuse_data,
    next_fuse_at_least,
)
from gridtwin.network.shortcircuit import ShortCircuitOptions, ShortCircuitResult, short_circuit

__all__ = [
    "ProtectionReport",
    "ProtectiveDevice",
    "electrification_protection",
    "feeder_load_current_a",
    "lv_feeders",
    "protection_check",
    "scenario_protection",
]

_CHECKS = ("ib_le_in", "in_le_iz", "i2_le_1_45_iz", "breaking_ok", "disconnection_ok", "selective")


def _graph(net: Any) -> nx.MultiGraph:
    import pandapower.topology as top

    return top.create_nxgraph(net, respect_switches=True, include_trafos=False)


def lv_feeders(net: Any) -> pd.DataFrame:
    """The LV feeders of a net: one row per line leaving a transformer's LV busbar.

    Returns
    -------
    pandas.DataFrame
        ``feeder`` (``line:<i>``), ``trafo``, ``busbar``, ``head_line``, ``buses`` and
        ``lines`` (tuples of indices behind the head), ``i_z_a`` (smallest permissible
        current of those lines [A]), ``n_customers`` (in-service loads).
    """
    rows: list[dict[str, Any]] = []
    g = _graph(net)
    line = net.line[net.line["in_service"].astype(bool)]
    i_z = line["max_i_ka"] * line["df"].fillna(1.0) * line["parallel"].fillna(1) * 1000.0
    load = net.load[net.load["in_service"].astype(bool)]
    for t, tr in net.trafo[net.trafo["in_service"].astype(bool)].iterrows():
        bb = int(tr["lv_bus"])
        if float(net.bus.at[bb, "vn_kv"]) >= 1.0:
            continue
        heads = line[(line["from_bus"] == bb) | (line["to_bus"] == bb)]
        sub = g.copy()
        sub.remove_node(bb)
        for li, ln in heads.iterrows():
            start = int(ln["to_bus"] if int(ln["from_bus"]) == bb else ln["from_bus"])
            if start not in sub:
                continue
            buses = nx.node_connected_component(sub, start)
            lines = line.index[line["from_bus"].isin(buses) | line["to_bus"].isin(buses)]
            rows.append(
                {
                    "feeder": f"line:{int(li)}",
                    "trafo": int(t),
                    "busbar": bb,
                    "head_line": int(li),
                    "buses": tuple(sorted(int(b) for b in buses)),
                    "lines": tuple(int(x) for x in lines),
                    "i_z_a": float(i_z.loc[lines].min()),
                    "n_customers": int(load["bus"].isin(buses).sum()),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["feeder", "trafo", "busbar", "head_line", "buses", "lines", "i_z_a",
                 "n_customers"],
    )  # fmt: skip


def feeder_load_current_a(result: Any, feeders: pd.DataFrame) -> pd.Series:
    """Largest current of each feeder's head line over the result's steps [A]."""
    pos = pd.Series(np.arange(len(result.line_ids)), index=result.line_ids)
    out = {}
    for f, head in zip(feeders["feeder"], feeders["head_line"], strict=True):
        col = result.line_i_ka[:, int(pos[head])]
        out[f] = float(np.nanmax(col)) * 1000.0 if np.isfinite(col).any() else math.nan
    return pd.Series(out, name="i_b_a", dtype=float)


@dataclass(frozen=True)
class ProtectionReport:
    """Protection checks, one row per feeder.

    Attributes
    ----------
    feeders : pandas.DataFrame
        ``feeder, trafo, head_line, far_bus, n_customers, i_b_a, device, i_n_a, i_z_a,
        i_2_a, ik3_max_busbar_ka, breaking_capacity_ka, ik1_min_far_a, disconnection_s,
        i_a_a, i_a_basis, upstream_i_n_a`` and the boolean checks ``ib_le_in, in_le_iz,
        i2_le_1_45_iz, breaking_ok, disconnection_ok, selective``, ``findings`` (text).
    short_circuit : ShortCircuitResult
        The currents the checks used.
    notes : tuple of str
        Assumptions (default devices, data verification, approximations).
    """

    feeders: pd.DataFrame
    short_circuit: ShortCircuitResult
    notes: tuple[str, ...]

    @property
    def failing(self) -> pd.DataFrame:
        """Feeders with at least one failed check."""
        return self.feeders[self.feeders["findings"] != ""]


def _upstream_fuse(net: Any, trafo: int) -> int | None:
    tr = net.trafo.loc[trafo]
    i_rt = (
        float(tr["sn_mva"])
        * float(tr.get("parallel", 1) or 1)
        / (math.sqrt(3) * float(tr["vn_lv_kv"]))
        * 1e3
    )
    return next_fuse_at_least(i_rt)


def _device_for(
    row: pd.Series, devices: Mapping[str, ProtectiveDevice], i_b: float, resize: bool
) -> tuple[ProtectiveDevice | None, str]:
    if row["feeder"] in devices:
        dev, how = devices[row["feeder"]], "given"
    else:
        rating = default_fuse(float(row["i_z_a"]))
        if rating is None:
            return None, "no gG rating protects this cable"
        dev, how = ProtectiveDevice(float(rating)), "default gG from I_z"
    if resize and dev.kind == "gG" and math.isfinite(i_b) and i_b > dev.rating_a:
        bigger = next_fuse_at_least(i_b)
        if bigger is None:
            return None, f"I_b {i_b:.0f} A above the largest gG rating"
        dev, how = (
            ProtectiveDevice(float(bigger), breaking_capacity_ka=dev.breaking_capacity_ka),
            "re-fused for I_b",
        )
    return dev, how


def _findings(r: Mapping[str, Any]) -> str:
    text = {
        "ib_le_in": f"I_b {r['i_b_a']:.0f} A > I_n {r['i_n_a']:g} A",
        "in_le_iz": f"I_n {r['i_n_a']:g} A > I_z {r['i_z_a']:.0f} A",
        "i2_le_1_45_iz": f"I_2 {r['i_2_a']:.0f} A > 1.45 I_z {1.45 * r['i_z_a']:.0f} A",
        "breaking_ok": f'I"k3 max {r["ik3_max_busbar_ka"]:.1f} kA > breaking capacity',
        "disconnection_ok": (
            f'I"k1 min {r["ik1_min_far_a"]:.0f} A at bus {r["far_bus"]} < I_a '
            f"{r['i_a_a']:.0f} A ({r['disconnection_s']:g} s)"
        ),
        "selective": f"not selective with the {r['upstream_i_n_a']:g} A main fuse",
    }
    return "; ".join(text[c] for c in _CHECKS if r[c] is False)


def protection_check(
    model_or_net: Any,
    load_current_a: Mapping[str, float] | pd.Series,
    *,
    devices: Mapping[str, ProtectiveDevice] | None = None,
    disconnection_time_s: float = 5.0,
    sc: ShortCircuitResult | None = None,
    sc_options: ShortCircuitOptions | None = None,
    resize_for_load: bool = False,
    main_fuse: bool = True,
) -> ProtectionReport:
    """Check the protection of every LV feeder.

    Parameters
    ----------
    model_or_net : NetworkModel or pandapowerNet
        The grid.
    load_current_a : mapping or Series
        ``I_b`` per feeder id [A] (:func:`feeder_load_current_a` of a power flow).
    devices : mapping, optional
        Feeder id -> :class:`ProtectiveDevice`; others get the default gG fuse.
    disconnection_time_s : float
        Required disconnection time [s]: 5 (distribution circuits, default) or 0.4
        (final circuits, TN 230 V), IEC 60364-4-41 Table 41.1.
    sc : ShortCircuitResult, optional
        Short-circuit currents to use (computed with pandapower otherwise).
    sc_options : ShortCircuitOptions, optional
        Assumptions of that computation.
    resize_for_load : bool
        Replace fuses smaller than ``I_b`` by the next standard rating (scenarios).
    main_fuse : bool
        Assume a gG main fuse on each transformer's LV side (next standard rating at or
        above its rated current) and check selectivity against it; False: no main fuse
        (selectivity then not assessed, reported as True).
    """
    if not (math.isfinite(disconnection_time_s) and 0.1 <= disconnection_time_s <= 5.0):
        msg = (
            f"disconnection_time_s={disconnection_time_s!r}: IEC 60364-4-41 asks 0.4 s "
            "(final circuits) or 5 s (distribution circuits); give a value in 0.1-5 s"
        )
        raise InputError(msg)
    net = getattr(model_or_net, "net", model_or_net)
    devices = dict(devices or {})
    feeders = lv_feeders(net)
    unknown = sorted(set(devices) - set(feeders["feeder"]))
    if unknown:
        msg = f"devices for unknown feeders {unknown}; feeders are {list(feeders['feeder'])}"
        raise InputError(msg)
    sc = sc or short_circuit(model_or_net, options=sc_options)
    ik = sc.buses.set_index("bus")
    i_b_all = pd.Series(load_current_a, dtype=float)
    rows = []
    hows: set[str] = set()
    for _, f in feeders.iterrows():
        i_b = float(i_b_all.get(f["feeder"], math.nan))
        dev, how = _device_for(f, devices, i_b, resize_for_load)
        hows.add(how)
        far = ik.loc[list(f["buses"]), "ik1_min_ka"]
        far_bus = int(far.idxmin())
        up = _upstream_fuse(net, int(f["trafo"])) if main_fuse else None
        r: dict[str, Any] = {
            "feeder": f["feeder"],
            "trafo": int(f["trafo"]),
            "head_line": int(f["head_line"]),
            "far_bus": far_bus,
            "n_customers": int(f["n_customers"]),
            "i_b_a": i_b,
            "i_z_a": float(f["i_z_a"]),
            "ik3_max_busbar_ka": float(
                ik["ik3_max_ka"].to_numpy(dtype=float)[ik.index.get_loc(int(f["busbar"]))]
            ),
            "ik1_min_far_a": float(far.min()) * 1000.0,
            "disconnection_s": disconnection_time_s,
            "upstream_i_n_a": float(up) if up else math.nan,
            "device_basis": how,
        }
        if dev is None:
            none = ("i_n_a", "i_2_a", "breaking_capacity_ka", "i_a_a")
            r |= {"device": "none", "i_a_basis": how} | dict.fromkeys(none, math.nan)
            r |= {c: False for c in _CHECKS}
        else:
            i_a, basis = dev.tripping_current_a(disconnection_time_s)
            r |= {
                "device": dev.kind,
                "i_n_a": dev.rating_a,
                "i_2_a": dev.i2_a,
                "breaking_capacity_ka": dev.breaking_ka,
                "i_a_a": i_a,
                "i_a_basis": basis,
                "ib_le_in": bool(not math.isfinite(i_b) or i_b <= dev.rating_a),
                "in_le_iz": bool(dev.rating_a <= r["i_z_a"]),
                "i2_le_1_45_iz": bool(dev.i2_a <= 1.45 * r["i_z_a"] + 1e-9),
                "breaking_ok": bool(r["ik3_max_busbar_ka"] <= dev.breaking_ka),
                "disconnection_ok": bool(r["ik1_min_far_a"] >= i_a),
                "selective": bool(
                    dev.kind != "gG"
                    or up is None
                    or up / dev.rating_a >= fuse_data().selectivity_ratio - 1e-9
                ),
            }
        r["findings"] = _findings(r)
        rows.append(r)
    frame = pd.DataFrame(rows)
    data = fuse_data()
    notes = (
        f"devices: {', '.join(sorted(hows))}; gG data {data.standard} {data.tables['gates']} "
        f"(verification: {data.verification}); breaking capacity of gG "
        f"{data.breaking_capacity_ka:g} kA (NH system A) unless given",
        "I_z: smallest max_i_ka * df * parallel of the feeder's lines (the head device "
        "protects them all)",
        (
            "upstream: transformer LV main gG fuse at the next standard rating >= I_rT "
            f"(assumed); selective when the ratio is >= {data.selectivity_ratio:g}"
            if main_fuse
            else "upstream: no LV main fuse; selectivity not assessed"
        ),
        "breakers are taken as selective (time grading is not modelled)",
        *sc.notes,
    )
    return ProtectionReport(frame, sc, notes)


def scenario_protection(before: ProtectionReport, after: ProtectionReport) -> pd.DataFrame:
    """Feeders that lose protection between two reports (after one re-fused for its load).

    Returns
    -------
    pandas.DataFrame
        Per feeder: ``i_b_before_a, i_b_after_a, i_n_before_a, i_n_after_a`` and the
        booleans ``loses_sensitivity`` (disconnection), ``loses_selectivity``,
        ``loses_cable_protection`` (I_n <= I_z or I_2 <= 1.45 I_z),
        ``overloads_device`` (the before-device carries more than I_n), ``findings``.
    """
    b = before.feeders.set_index("feeder")
    a = after.feeders.set_index("feeder").reindex(b.index)
    out = pd.DataFrame(index=b.index)
    out["i_b_before_a"] = b["i_b_a"]
    out["i_b_after_a"] = a["i_b_a"]
    out["i_n_before_a"] = b["i_n_a"]
    out["i_n_after_a"] = a["i_n_a"]
    out["loses_sensitivity"] = b["disconnection_ok"] & ~a["disconnection_ok"].astype(bool)
    out["loses_selectivity"] = b["selective"] & ~a["selective"].astype(bool)
    cable_b = b["in_le_iz"] & b["i2_le_1_45_iz"]
    cable_a = a["in_le_iz"].astype(bool) & a["i2_le_1_45_iz"].astype(bool)
    out["loses_cable_protection"] = cable_b & ~cable_a
    out["overloads_device"] = a["i_b_a"] > b["i_n_a"]
    out["findings"] = a["findings"]
    return out.reset_index()


def electrification_protection(
    model: Any,
    spec: Any,
    *,
    steps: slice | None = None,
    disconnection_time_s: float = 5.0,
    sc_options: ShortCircuitOptions | None = None,
    main_fuse: bool = True,
) -> tuple[ProtectionReport, ProtectionReport, pd.DataFrame]:
    """Protection before and after an electrification scenario.

    The model is simulated as it is and after :func:`gridtwin.network.scenarios.electrify`
    with ``spec``; feeders whose load outgrows their fuse are re-fused (next standard
    rating) and :func:`scenario_protection` lists what is lost. Short-circuit currents do
    not change (loads are not in IEC 60909) and are computed once.

    Returns
    -------
    tuple
        The report before, the report after, and the comparison frame.
    """
    from gridtwin.network._timeseries import simulate
    from gridtwin.network.scenarios import electrify

    after_model, _ = electrify(model, spec)
    feeders = lv_feeders(model.net)
    sc = short_circuit(model, options=sc_options)
    before = protection_check(
        model,
        feeder_load_current_a(simulate(model, steps=steps), feeders),
        disconnection_time_s=disconnection_time_s,
        sc=sc,
        main_fuse=main_fuse,
    )
    after = protection_check(
        after_model,
        feeder_load_current_a(simulate(after_model, steps=steps), feeders),
        disconnection_time_s=disconnection_time_s,
        sc=sc,
        main_fuse=main_fuse,
        resize_for_load=True,
    )
    return before, after, scenario_protection(before, after)
