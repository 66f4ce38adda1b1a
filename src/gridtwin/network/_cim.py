"""CIM/CGMES import: a CGMES 2.4.15 model as a :class:`~gridtwin.network.NetworkModel`.

The conversion is pandapower's CGMES converter (``pandapower.converter.cim``); it needs
``lxml``, which the optional extra ``gridtwin[cim]`` installs. Before converting, every
input file's CGMES header (``md:FullModel``) is read, so a missing file, a file that is
not CGMES, or a model without its equipment (EQ) or steady-state hypothesis (SSH)
profile is reported by name instead of failing deep inside the converter (which skips
files it cannot find).

After the conversion :func:`load_cgmes` only makes lossless repairs, each recorded in
:attr:`NetworkModel.notes`; everything else (``gen`` for voltage-controlled machines, a
missing slack ...) is left to :func:`gridtwin.network.validate` to report.
"""

from __future__ import annotations

import io
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._model import NetworkModel

__all__ = ["CGMES_SUFFIXES", "load_cgmes"]

#: File suffixes read as CGMES (the converter silently skips any other file).
CGMES_SUFFIXES: tuple[str, ...] = (".zip", ".xml", ".rdf")

_INSTALL_HINT = "install the optional dependencies with: pip install 'gridtwin[cim]'"

#: Profile URI fragments of CGMES 2.4.15 -> short profile name (pandapower's rules).
_PROFILE_KEYS: tuple[tuple[str, str], ...] = (
    ("/EquipmentCore/", "EQ"),
    ("/EquipmentOperation/", "EQ"),
    ("/EquipmentShortCircuit/", "EQ"),
    ("/SteadyStateHypothesis/", "SSH"),
    ("/StateVariables/", "SV"),
    ("/Topology/", "TP"),
    ("/DiagramLayout/", "DL"),
    ("/GeographicalLocation/", "GL"),
    ("/EquipmentBoundary/", "EQ_BD"),
    ("/EquipmentBoundaryOperation/", "EQ_BD"),
    ("/TopologyBoundary/", "TP_BD"),
    ("/Dynamics/", "DY"),
)

#: CIM namespace of CGMES 3.0 (CIM100); CGMES 2.4.15 uses CIM16.
_CIM100_NS = "http://iec.ch/TC57/CIM100#"

#: At most this many converter messages are copied into the model's notes.
_MAX_CONVERTER_NOTES = 20

#: Floats at least this large are sentinels for "unlimited" that pandapower's JSON reader
#: cannot read back (e.g. ``ratedS`` = 1.8e308); they become NaN.
_HUGE = 1e300


@dataclass(frozen=True)
class _Part:
    """One CGMES profile document found in the input."""

    label: str
    profile: str


def _local(tag: str) -> str:
    """An XML tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def _read_header(stream: IO[bytes], label: str) -> _Part:
    """Read the ``md:FullModel`` header at the start of one CGMES document."""
    depth = 0
    profiles: list[str] = []
    try:
        for event, item in ET.iterparse(stream, events=("start-ns", "start", "end")):
            if event == "start-ns":
                if item[1] == _CIM100_NS:
                    msg = (
                        f"{label}: CGMES 3.0 (CIM100) is not supported; export the model "
                        "as CGMES 2.4.15 (CIM16)"
                    )
                    raise InputError(msg)
                continue
            if event == "start":
                depth += 1
                if depth == 2 and _local(item.tag) != "FullModel":
                    break
                continue
            if depth == 3 and _local(item.tag) == "Model.profile" and item.text:
                profiles.append(item.text.strip())
            if depth <= 2:  # the header (or an empty document) has ended
                break
            depth -= 1
    except ET.ParseError as exc:
        msg = f"{label}: not a readable CGMES file (not well-formed XML: {exc})"
        raise InputError(msg) from exc
    if not profiles:
        msg = (
            f"{label}: no CGMES header (an md:FullModel with its Model.profile must be the "
            "first element); is this a CGMES profile file?"
        )
        raise InputError(msg)
    for uri in profiles:
        for key, short in _PROFILE_KEYS:
            if key in uri:
                return _Part(label=label, profile=short)
    msg = f"{label}: the CGMES header names no known CGMES 2.4.15 profile: {', '.join(profiles)}"
    raise InputError(msg)


def _scan_zip(archive: zipfile.ZipFile, label: str) -> list[_Part]:
    """Headers of the profile files in a zip, as the converter reads it.

    The converter reads ``.xml``/``.rdf`` files and nested zips at the top of the
    archive and one folder deep; it ignores everything else.
    """
    parts: list[_Part] = []
    for member in archive.infolist():
        name = member.filename
        if member.is_dir() or name.rstrip("/").count("/") > 1:
            continue
        lower = name.lower()
        where = f"{label}:{name}"
        if lower.endswith(".zip"):
            with archive.open(member) as fh:
                data = fh.read()
            parts.extend(_scan_zip_bytes(data, where))
        elif lower.endswith(("xml", "rdf")):
            with archive.open(member) as fh:
                parts.append(_read_header(fh, where))
    return parts


def _scan_zip_bytes(data: bytes, label: str) -> list[_Part]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _scan_zip(archive, label)
    except zipfile.BadZipFile as exc:
        msg = f"{label}: not a readable zip archive ({exc})"
        raise InputError(msg) from exc


def _scan(path: Path) -> list[_Part]:
    """Headers of the CGMES documents in one input file (a zip or one XML file)."""
    if not path.is_file():
        msg = (
            f"{path}: no such file; give a CGMES zip or the CGMES profile files "
            "(EQ, TP, SSH and optionally SV)"
        )
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix not in CGMES_SUFFIXES:
        msg = (
            f"{path}: not a CGMES file name (expected {', '.join(CGMES_SUFFIXES)}); the "
            "converter would skip it"
        )
        raise InputError(msg)
    try:
        if suffix == ".zip":
            try:
                with zipfile.ZipFile(path) as archive:
                    parts = _scan_zip(archive, str(path))
            except zipfile.BadZipFile as exc:
                msg = f"{path}: not a readable zip archive ({exc})"
                raise InputError(msg) from exc
            if not parts:
                msg = f"{path}: the zip holds no CGMES profile files (.xml or .rdf)"
                raise InputError(msg)
            return parts
        with path.open("rb") as fh:
            return [_read_header(fh, str(path))]
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise InputError(msg) from exc


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, str | Path):
        return [Path(paths)]
    if not isinstance(paths, Sequence):
        msg = f"give a path or a list of paths of CGMES files, not {type(paths).__name__}"
        raise InputError(msg)
    out = [Path(p) for p in paths]
    if not out:
        msg = "no CGMES files given; give a CGMES zip or the profile files (EQ, TP, SSH, SV)"
        raise InputError(msg)
    return out


def _default_name(paths: list[Path]) -> str:
    """The common stem of the files without a trailing profile tag: ``grid_EQ.xml`` -> grid."""
    stems = [p.stem for p in paths]
    stem = stems[0]
    for other in stems[1:]:
        n = 0
        while n < min(len(stem), len(other)) and stem[n] == other[n]:
            n += 1
        stem = stem[:n]
    if len(paths) == 1:
        stem = re.sub(r"[_\-. ]?(EQ|TP|SSH|SV|DL|GL)(_BD)?$", "", stem, flags=re.IGNORECASE)
    stem = stem.rstrip("_-. ")
    return stem or "cgmes"


def _converter_notes(net: Any) -> list[str]:
    """Warnings and errors the converter logged (its report container is removed)."""
    container = net.pop("report_container", None)
    logs = container.get_logs() if hasattr(container, "get_logs") else []
    seen: list[str] = []
    for log in logs:
        level = str(getattr(getattr(log, "level", None), "value", ""))
        if level not in ("WARNING", "ERROR", "EXCEPTION"):
            continue
        lines = [ln.strip() for ln in str(getattr(log, "message", "")).splitlines() if ln.strip()]
        text = f"converter {level.lower()}: {lines[-1] if lines else '(no message)'}"
        if text not in seen:
            seen.append(text)
    if len(seen) > _MAX_CONVERTER_NOTES:
        rest = len(seen) - _MAX_CONVERTER_NOTES
        seen = [*seen[:_MAX_CONVERTER_NOTES], f"... and {rest} more converter message(s)"]
    return seen


def _linear_ratio_table(row: Any, table: pd.DataFrame) -> bool:
    """Whether the characteristic table of transformer ``row`` only restates its linear
    ratio tap changer (see :func:`_drop_linear_tap_tables`)."""
    cid, pct, neutral, pos = (
        row.get(k)
        for k in ("id_characteristic_table", "tap_step_percent", "tap_neutral", "tap_pos")
    )
    degree = row.get("tap_step_degree")
    if (
        row.get("tap_changer_type") != "Ratio"
        or any(pd.isna(v) for v in (cid, pct, neutral, pos))
        or not (pd.isna(degree) or float(degree) == 0.0)
    ):
        return False
    points = table[table["id_characteristic"] == cid]
    steps = points["step"].to_numpy(dtype=np.float64)
    if not len(points) or float(pos) not in steps:
        return False
    expected = 1.0 + (steps - float(neutral)) * float(pct) / 100.0
    same = np.allclose(
        points["voltage_ratio"].to_numpy(dtype=np.float64), expected, rtol=0.0, atol=1e-9
    )
    same &= bool(
        np.all(np.abs(np.nan_to_num(points["angle_deg"].to_numpy(dtype=np.float64))) <= 1e-9)
    )
    for col in ("vk_percent", "vkr_percent"):
        values = points[col].to_numpy(dtype=np.float64)
        values = values[~np.isnan(values)]
        same &= bool(np.allclose(values, float(row[col]), rtol=1e-9, atol=1e-12))
    for col in (
        "vk_hv_percent",
        "vk_mv_percent",
        "vk_lv_percent",
        "vkr_hv_percent",
        "vkr_mv_percent",
        "vkr_lv_percent",
    ):
        if col in points:
            same &= bool(points[col].isna().all())
    return bool(same)


def _drop_linear_tap_tables(net: Any) -> list[str]:
    """Drop tap characteristic tables that only restate a linear ratio tap changer.

    The converter gives every tabular CGMES ratio tap changer a
    ``trafo_characteristic_table`` (``tap_dependency_table = True``). When every point of
    the table is exactly ``voltage_ratio = 1 + (step - tap_neutral) * tap_step_percent /
    100`` with no angle and the transformer's own ``vk_percent``/``vkr_percent``, the
    table says nothing more than ``tap_step_percent`` does, at any tap position, and
    pandapower computes the same ratio without it.
    """
    trafo = net.get("trafo")
    table = net.get("trafo_characteristic_table")
    if (
        not isinstance(trafo, pd.DataFrame)
        or not isinstance(table, pd.DataFrame)
        or not len(trafo)
        or not len(table)
        or "tap_dependency_table" not in trafo
    ):
        return []
    uses_table = trafo["tap_dependency_table"].astype("boolean").fillna(False).astype(bool)
    dropped: list[str] = []
    for idx in trafo.index[uses_table.to_numpy()]:
        row = trafo.loc[idx]
        if not _linear_ratio_table(row, table):
            continue
        trafo.loc[idx, "tap_dependency_table"] = False
        trafo.loc[idx, "id_characteristic_table"] = pd.NA
        dropped.append(str(row.get("name", idx)))
    if not dropped:
        return []
    shown = ", ".join(dropped[:10]) + (" ..." if len(dropped) > 10 else "")
    return [
        f"{len(dropped)} transformer(s) ({shown}) have a tabular ratio tap changer whose "
        "table is exactly linear; modelled with tap_step_percent instead of a "
        "trafo_characteristic_table (same ratio at every tap)"
    ]


def _clear_huge_values(net: Any) -> list[str]:
    """Replace "unlimited" sentinels (about 1.8e308) by NaN."""
    cleared: list[str] = []
    for table in (
        "bus",
        "load",
        "sgen",
        "gen",
        "ext_grid",
        "shunt",
        "line",
        "trafo",
        "trafo3w",
        "switch",
        "storage",
        "ward",
        "xward",
        "impedance",
        "dcline",
        "motor",
    ):
        df = net.get(table)
        if not isinstance(df, pd.DataFrame) or not len(df):
            continue
        for col in df.columns:
            if not pd.api.types.is_float_dtype(df[col]):
                continue
            huge = np.abs(df[col].to_numpy(dtype=np.float64)) >= _HUGE
            if huge.any():
                df.loc[huge, col] = np.nan
                cleared.append(f"{table}.{col} ({int(huge.sum())})")
    if not cleared:
        return []
    return [
        f"values of 1e300 or more (CGMES 'unlimited' sentinels) set to NaN in {', '.join(cleared)}"
    ]


def _model_notes(net: Any) -> list[str]:
    """Remarks about what the converted grid means for gridtwin."""
    notes: list[str] = []
    line, bus = net.line, net.bus
    if len(line):
        vn_from = bus["vn_kv"].reindex(line["from_bus"]).to_numpy(dtype=np.float64)
        vn_to = bus["vn_kv"].reindex(line["to_bus"]).to_numpy(dtype=np.float64)
        known = np.isfinite(vn_from) & np.isfinite(vn_to)
        odd = line.index[known & ~np.isclose(vn_from, vn_to, rtol=1e-9, atol=0.0)]
        for idx in odd[:10]:
            k = line.index.get_loc(idx)
            notes.append(
                f"line {idx} ({line.at[idx, 'name']}) joins buses of {vn_from[k]:g} kV and "
                f"{vn_to[k]:g} kV; a pandapower line has no voltage ratio (its impedance is "
                "per-unitised on the from bus), so this is probably a transformer exported "
                "as a line: check it"
            )
    ext_grid = net.ext_grid
    has_ext_grid = bool(len(ext_grid)) and bool(ext_grid["in_service"].astype(bool).any())
    gen = net.gen
    has_slack_gen = (
        bool(len(gen))
        and "slack" in gen
        and bool((gen["slack"].astype(bool) & gen["in_service"].astype(bool)).any())
    )
    if not has_ext_grid and not has_slack_gen:
        notes.append(
            "no slack: no in-service ExternalNetworkInjection or voltage-controlled "
            "SynchronousMachine has referencePriority > 0 in the SSH profile; add an "
            "ext_grid (pandapower.create_ext_grid) at the feeding bus"
        )
    elif not has_ext_grid:
        notes.append(
            "the slack is a voltage-controlled generator (gen with slack=True), not an ext_grid"
        )
    return notes


def _converter() -> Any:
    """pandapower's ``from_cim``, or :class:`InputError` naming what is not installed."""
    try:
        from pandapower.converter.cim.cim2pp.from_cim import from_cim
    except ImportError as exc:
        missing = exc.name or str(exc)
        msg = (
            f"CGMES import needs pandapower's CIM converter and lxml (missing: {missing}); "
            f"{_INSTALL_HINT}"
        )
        raise InputError(msg) from exc
    return from_cim


def _profiles_found(files: list[Path], source: str) -> set[str]:
    """The CGMES profiles among ``files`` (their headers read); EQ and SSH are required."""
    parts = [part for path in files for part in _scan(path)]
    found = {part.profile for part in parts}
    missing_profiles = [p for p in ("EQ", "SSH") if p not in found]
    if missing_profiles:
        listed = "; ".join(f"{part.label} ({part.profile})" for part in parts)
        msg = (
            f"{source}: no {' or '.join(missing_profiles)} profile among the CGMES files "
            f"[{listed}]; a CGMES model needs EQ (equipment) and SSH (steady-state "
            "hypothesis), bus-branch models also TP (topology); SV is optional"
        )
        raise InputError(msg)
    return found


def _convert(from_cim: Any, files: list[Path], source: str, no_tp_hint: str) -> Any:
    """Run the converter on ``files``; its failures as :class:`InputError`."""
    try:
        with warnings.catch_warnings():
            # pandapower 3.5.6's CGMES converter triggers pandas deprecation warnings
            for category in (FutureWarning, pd.errors.SettingWithCopyWarning):
                warnings.filterwarnings(
                    "ignore", category=category, module=r"pandapower\.converter\.cim\."
                )
            return from_cim(file_list=[str(p) for p in files], ignore_errors=False)
    except ImportError as exc:
        msg = f"CGMES import needs lxml (missing: {exc.name or exc}); {_INSTALL_HINT}"
        raise InputError(msg) from exc
    except Exception as exc:  # the converter raises bare Exception, KeyError, TypeError ...
        msg = (
            f"{source}: pandapower's CGMES converter failed ({type(exc).__name__}: {exc}); "
            f"the model may lack data the converter needs{no_tp_hint}"
        )
        raise InputError(msg) from exc


def _check_buses(net: Any, source: str, found: set[str], no_tp_hint: str) -> None:
    """The converted net has buses, each with a nominal voltage."""
    if not len(net.bus):
        msg = (
            f"{source}: the CGMES model has no buses (no TopologicalNode or "
            f"ConnectivityNode){no_tp_hint}"
        )
        raise InputError(msg)
    vn_kv = net.bus["vn_kv"].to_numpy(dtype=np.float64)
    no_vn = ~(np.isfinite(vn_kv) & (vn_kv > 0))
    if no_vn.any():
        names = ", ".join(net.bus.loc[no_vn, "name"].astype(str).tolist()[:5])
        boundary = "" if "EQ_BD" in found else " (no boundary set was given)"
        msg = (
            f"{source}: {int(no_vn.sum())} of {len(vn_kv)} buses have no nominal voltage "
            f"(e.g. {names}): their BaseVoltage is defined in none of the files. ENTSO-E "
            "models define the common BaseVoltages in the boundary set: add its EQ_BD and "
            f"TP_BD files{boundary}"
        )
        raise InputError(msg)


def load_cgmes(
    paths: str | Path | Sequence[str | Path], *, name: str | None = None
) -> NetworkModel:
    """Load a CGMES 2.4.15 model with pandapower's CGMES converter.

    Parameters
    ----------
    paths : str, Path or sequence of them
        A CGMES zip (profile files inside, or one zip per profile) or the profile files
        (``.xml``/``.rdf``): EQ and SSH are required, TP is needed by bus-branch models
        (TopologicalNodes without ConnectivityNodes), SV, DL, GL and the boundary set are
        optional. Several models (e.g. two IGMs and a boundary set) are merged.
    name : str, optional
        Grid name; defaults to the files' common stem without the profile tag.

    Returns
    -------
    NetworkModel
        The grid, without profiles. Load and generator set-points are the SSH values.
        ``notes`` records the converter's warnings and the repairs made here: exactly
        linear tap tables replaced by ``tap_step_percent``, "unlimited" sentinels
        (1.8e308) set to NaN, and remarks (a line joining two voltage levels, no slack).

    Raises
    ------
    InputError
        A file is missing, not CGMES or unreadable (the message names it), EQ or SSH is
        missing, buses have no nominal voltage (a boundary set is missing), the model is
        CGMES 3.0, the converter fails, or the optional dependencies are not installed
        (``pip install 'gridtwin[cim]'``).

    Notes
    -----
    What the converter produces, and :func:`gridtwin.network.validate` judges:
    voltage-controlled SynchronousMachines become ``gen`` (PV buses, not supported by
    the time-series engine; one with ``SynchronousMachine.referencePriority > 0`` is
    the slack), other machines ``sgen``; an ExternalNetworkInjection with
    ``referencePriority > 0`` and voltage control becomes the ``ext_grid``; three-winding
    transformers ``trafo3w``; EquivalentInjections (boundary flows) ``ward``/``xward``;
    DCLineSegments ``dcline``. Transformer tap changers with a TapChangerControl get a
    pandapower tap controller (``net.controller``), which only acts in
    ``pandapower.runpp(net, run_control=True)``. Operational current limits become line
    ``max_i_ka``.
    """
    from_cim = _converter()
    files = _as_paths(paths)
    source = ", ".join(str(p) for p in files)
    found = _profiles_found(files, source)
    no_tp_hint = (
        ""
        if "TP" in found
        else "; no TP (topology) profile was given, which bus-branch models need"
    )
    net = _convert(from_cim, files, source, no_tp_hint)
    _check_buses(net, source, found, no_tp_hint)
    notes = _converter_notes(net)
    notes += _drop_linear_tap_tables(net)
    notes += _clear_huge_values(net)
    notes += _model_notes(net)
    label = name if name is not None else _default_name(files)
    net.name = label
    return NetworkModel(net=net, name=label, source=source, notes=tuple(notes))
