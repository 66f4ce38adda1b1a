"""IEC 60364-5-52 permissible currents for the LV cables of a net, from their type names.

German/IEC type designations name conductor and insulation: ``N`` standard type, ``A``
aluminium conductor (copper without it), ``Y`` PVC insulation, ``2X`` XLPE insulation;
then ``cores x size``: ``NAYY 4x150SE 0.6/1kV`` is a four-core 150 mm² aluminium PVC cable,
``N2XY 4x95`` a copper XLPE one. Cables of three or more cores are rated with three loaded
conductors (three-phase circuits).
"""

from __future__ import annotations

import re
from typing import Any

from gridtwin.errors import InputError
from gridtwin.network.ratings import permissible_current_a

__all__ = ["iec_line_ratings", "parse_cable_type"]

_TYPE = re.compile(r"^N(A?)(2X|Y)[A-Z0-9-]*\s+(\d+)\s*x\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_cable_type(std_type: object) -> tuple[str, str, float, int] | None:
    """``(material, insulation, size_mm2, cores)`` of a type name, None when not recognised.

    Examples
    --------
    >>> parse_cable_type("NAYY 4x150SE 0.6/1kV")
    ('Al', 'PVC', 150.0, 4)
    >>> parse_cable_type("N2XY 4x95")
    ('Cu', 'XLPE', 95.0, 4)
    """
    if not isinstance(std_type, str):
        return None
    m = _TYPE.match(std_type.strip())
    if m is None:
        return None
    material = "Al" if m.group(1) else "Cu"
    insulation = "XLPE" if m.group(2).upper() == "2X" else "PVC"
    return material, insulation, float(m.group(4)), int(m.group(3))


def iec_line_ratings(
    net: Any,
    *,
    method: str,
    ambient_c: float | None = None,
    ground_c: float | None = None,
    soil_k_m_per_w: float | None = None,
    n_grouped: int = 1,
    arrangement: str | None = None,
) -> tuple[dict[int, float], tuple[str, ...]]:
    """Permissible currents [A] of the net's LV cables under one set of installation
    conditions (IEC 60364-5-52:2009, :func:`permissible_current_a`), times ``parallel``.

    Lines above 1 kV, lines whose type is not recognised and cables the tables do not
    cover keep their own rating; the notes say which and why.

    Raises
    ------
    InputError
        Invalid conditions (unknown method, temperature outside the tables, ...).
    """
    out: dict[int, float] = {}
    skipped: dict[str, list[int]] = {}
    weakest: set[str] = set()
    vn = net.bus["vn_kv"]
    for idx, ln in net.line.iterrows():
        if float(vn.at[ln["from_bus"]]) >= 1.0:
            continue
        parsed = parse_cable_type(ln.get("std_type"))
        if parsed is None:
            skipped.setdefault("type name not recognised", []).append(int(idx))
            continue
        material, insulation, size, cores = parsed
        try:
            rating = permissible_current_a(
                size,
                method=method,
                insulation=insulation,
                loaded_conductors=3 if cores >= 3 else 2,
                material=material,
                ambient_c=ambient_c,
                ground_c=ground_c,
                soil_k_m_per_w=soil_k_m_per_w,
                n_grouped=n_grouped,
                arrangement=arrangement,
            )
        except InputError as exc:
            if "size_mm2" in str(exc) or "no base-capacity table" in str(exc):
                skipped.setdefault(f"not in the tables ({material} {size:g} mm²)", []).append(
                    int(idx)
                )
                continue
            raise
        out[int(idx)] = rating.i_z_a * float(ln.get("parallel", 1) or 1)
        weakest.add(rating.verification)
    notes = [
        f"IEC 60364-5-52 ratings for {len(out)} LV lines, method {method}"
        + (f", verification {', '.join(sorted(weakest))}" if weakest else "")
    ]
    notes += [
        f"own rating kept for lines {ids[:10]}{' ...' if len(ids) > 10 else ''}: {why}"
        for why, ids in skipped.items()
    ]
    return out, tuple(notes)
