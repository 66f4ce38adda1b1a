"""A disk cache of SimBench grids and their profiles, so that a second load is fast.

Reading a SimBench grid from the CSV files in the ``simbench`` wheel takes seconds; the
cache keeps the converted pandapower net and the absolute profiles on disk and reads them
back in a fraction of that.

Where: ``$GRIDTWIN_CACHE_DIR`` if set (``off`` switches the cache off), else the user
cache directory (``$XDG_CACHE_HOME/gridtwin`` or ``~/.cache/gridtwin``; on Windows
``%LOCALAPPDATA%\\gridtwin\\Cache``, on macOS ``~/Library/Caches/gridtwin``). One folder
per SimBench code, ``simbench/<code>/<key>/``, where the key names the simbench and
pandapower versions and :data:`FORMAT_VERSION`: another version misses the cache, the
entry is rewritten and the stale one removed.

Size: the cache holds at most ``$GRIDTWIN_CACHE_MAX_GB`` gigabytes (default
:data:`DEFAULT_MAX_GB`; a year of profiles of a large grid takes several GB). After each
write the entries used least recently are removed until the total fits; an entry larger
than the cap alone is not kept (with a note).

Format (nothing on disk is unpickled or executed):

- ``net/``: ``net.json`` holds every non-table item of the net (scalars, ``std_types``,
  ...) as tagged JSON, and per table its columns, dtypes, index and the values of its
  object columns (JSON keeps ``None``, ``nan``, ``int``, ``float`` and ``str`` apart);
  the other columns of a non-empty table are one Parquet file each table.
- ``profiles/``: ``profiles.json`` (shapes, element columns, time axis) and one raw
  little-endian float64 file per profile field (T x elements, C order).
- ``manifest.json`` in each part, written last, lists every file with its size and
  SHA-256. A part is written into a temporary folder beside its final place and renamed
  into place, so a reader sees a whole part or none; a part whose files do not match its
  manifest is rebuilt with a note. A cache folder that cannot be written means "no
  cache" with a note, never a failure.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

__all__ = [
    "DEFAULT_MAX_GB",
    "ENV_VAR",
    "FORMAT_VERSION",
    "MAX_GB_ENV_VAR",
    "CacheEntry",
    "UnsupportedContentError",
    "clear",
    "default_cache_dir",
    "entries",
    "entry_key",
    "load",
    "max_bytes",
    "read_net",
    "read_profiles",
    "resolve_cache_dir",
    "write_net",
    "write_profiles",
]

#: Version of the on-disk format; a new one misses (and rewrites) every entry.
FORMAT_VERSION = 1
#: Environment variable naming the cache folder (``off`` disables the cache).
ENV_VAR = "GRIDTWIN_CACHE_DIR"
#: Environment variable capping the cache's size [GB].
MAX_GB_ENV_VAR = "GRIDTWIN_CACHE_MAX_GB"
#: Default cap of the cache's size [GB].
DEFAULT_MAX_GB = 20.0
#: File in an entry whose modification time says when the entry was last used.
_LAST_USED = "last_used"
MANIFEST = "manifest.json"
_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_STALE_TMP_S = 3600.0
#: numpy dtype kinds stored in Parquet (bool, signed, unsigned, float, datetime).
_PARQUET_KINDS = frozenset("biufM")
_EXTENSION_DTYPES = frozenset(
    [
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "UInt8",
        "UInt16",
        "UInt32",
        "UInt64",
        "Float32",
        "Float64",
        "boolean",
        "string",
    ]
)
_SCALARS = (type(None), bool, int, float, str)


class ProfilesLike(Protocol):
    """What the cache needs of :class:`gridtwin.network.Profiles`."""

    @property
    def time_utc(self) -> pd.DatetimeIndex: ...

    @property
    def source(self) -> str: ...

    def frames(self) -> dict[str, pd.DataFrame]: ...


P = TypeVar("P", bound=ProfilesLike)


class UnsupportedContentError(Exception):
    """The net holds something the safe format does not store (it is then not cached)."""


class _DamagedError(Exception):
    """A cache part does not match its manifest or does not read back."""


# ----------------------------------------------------------------------- location and key


def default_cache_dir() -> Path:
    """The user cache folder of gridtwin: ``$GRIDTWIN_CACHE_DIR`` or the platform's."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "gridtwin" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "gridtwin"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "gridtwin"


def resolve_cache_dir(cache: bool | str | Path | None) -> Path | None:
    """The cache folder for a ``cache`` argument, or None when caching is off.

    ``None`` or ``True``: :func:`default_cache_dir` (None if ``$GRIDTWIN_CACHE_DIR`` is
    ``off``); ``False``: off; a path: that folder.
    """
    if cache is False:
        return None
    if cache is None or cache is True:
        if os.environ.get(ENV_VAR, "").strip().lower() == "off":
            return None
        return default_cache_dir()
    if isinstance(cache, str | Path):
        return Path(cache).expanduser()
    msg = f"cache must be True, False, None or a folder path; got {cache!r}"
    raise InputError(msg)


def max_bytes() -> int:
    """The cap of the cache's size [B]: ``$GRIDTWIN_CACHE_MAX_GB`` or :data:`DEFAULT_MAX_GB`."""
    raw = os.environ.get(MAX_GB_ENV_VAR, "").strip()
    if not raw:
        return int(DEFAULT_MAX_GB * 1e9)
    try:
        gb = float(raw)
    except ValueError:
        gb = float("nan")
    if not np.isfinite(gb) or gb < 0:
        msg = (
            f"{MAX_GB_ENV_VAR}={raw!r} is not a size in gigabytes; set it to a number >= 0 "
            f"(e.g. 5 or 0.5), or unset it for the default {DEFAULT_MAX_GB:g} GB"
        )
        raise InputError(msg)
    return int(gb * 1e9)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def entry_key() -> str:
    """The folder name of an entry: package versions and our format version."""
    return (
        f"simbench-{_version('simbench')}_pandapower-{_version('pandapower')}"
        f"_format-{FORMAT_VERSION}"
    )


# ----------------------------------------------------------------------- files and manifest


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _bytes_of(arr: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array without a copy (an empty array has none)."""
    return arr.reshape(-1).data.cast("B") if arr.size else memoryview(bytearray())


def _write_file(folder: Path, name: str, data: bytes | memoryview, files: dict[str, Any]) -> None:
    (folder / name).write_bytes(data)
    files[name] = {"bytes": len(data), "sha256": _sha256(data)}


def _write_manifest(folder: Path, kind: str, code: str, files: dict[str, Any]) -> None:
    manifest = {
        "kind": kind,
        "code": code,
        "key": entry_key(),
        "format": FORMAT_VERSION,
        "written_utc": pd.Timestamp.now(tz="UTC").isoformat(),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _read_manifest(folder: Path, kind: str, code: str) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = "no manifest"
        raise _DamagedError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"unreadable manifest: {exc}"
        raise _DamagedError(msg) from exc
    expect = {"kind": kind, "code": code, "key": entry_key(), "format": FORMAT_VERSION}
    for field_name, value in expect.items():
        if manifest.get(field_name) != value:
            msg = f"manifest {field_name} is {manifest.get(field_name)!r}, not {value!r}"
            raise _DamagedError(msg)
    return dict(manifest)


def _expected(manifest: dict[str, Any], name: str) -> tuple[int, str]:
    entry = manifest["files"].get(name)
    if entry is None:
        msg = f"{name} is not in the manifest"
        raise _DamagedError(msg)
    return int(entry["bytes"]), str(entry["sha256"])


def _read_bytes(folder: Path, name: str, manifest: dict[str, Any]) -> bytes:
    """A file's bytes, checked against the manifest's size and hash."""
    size, digest = _expected(manifest, name)
    data = (folder / name).read_bytes()
    if len(data) != size or _sha256(data) != digest:
        msg = f"{name} has {len(data)} bytes or a hash other than the manifest's ({size} bytes)"
        raise _DamagedError(msg)
    return data


def _read_array(
    folder: Path, name: str, manifest: dict[str, Any], shape: tuple[int, ...]
) -> np.ndarray:
    """A raw little-endian float64 array read straight into place, size and hash checked."""
    size, digest = _expected(manifest, name)
    arr = np.empty(shape, dtype="<f8")
    if arr.nbytes != size:
        msg = f"{name}: shape {shape} does not match {size} bytes"
        raise _DamagedError(msg)
    view = _bytes_of(arr)
    with (folder / name).open("rb") as fh:
        got = fh.readinto(view)
        extra = fh.read(1)
    if got != size or extra or _sha256(view) != digest:
        msg = f"{name}: size or hash differs from the manifest"
        raise _DamagedError(msg)
    return arr.astype(np.float64, copy=False)


# ----------------------------------------------------------------------- the net


def _encode(value: Any, frames: list[pd.DataFrame], where: str) -> Any:
    """A JSON-exact, tagged form of an item of the net (frames go to ``frames``)."""
    if type(value) in _SCALARS:
        return {"v": value}
    if isinstance(value, pd.DataFrame):
        frames.append(value)
        return {"frame": len(frames) - 1}
    if isinstance(value, np.bool_ | np.integer | np.floating):
        return {"np": value.dtype.str, "v": value.item()}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            msg = f"{where}: a dict with keys other than strings"
            raise UnsupportedContentError(msg)
        return {"dict": {k: _encode(v, frames, f"{where}.{k}") for k, v in value.items()}}
    if type(value) is list:
        return {"list": [_encode(v, frames, f"{where}[]") for v in value]}
    msg = f"{where}: a {type(value).__name__} is not stored"
    raise UnsupportedContentError(msg)


def _decode(value: dict[str, Any], frames: list[pd.DataFrame]) -> Any:
    if "frame" in value:
        return frames[value["frame"]]
    if "np" in value:
        return np.dtype(value["np"]).type(value["v"])
    if "dict" in value:
        return {k: _decode(v, frames) for k, v in value["dict"].items()}
    if "list" in value:
        return [_decode(v, frames) for v in value["list"]]
    return value["v"]


def _json_scalars(values: Any, where: str) -> list[Any]:
    out = list(values)
    for v in out:
        if type(v) not in _SCALARS:
            msg = f"{where}: a {type(v).__name__} value is not stored"
            raise UnsupportedContentError(msg)
    return out


def _parquet_dtype(dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype.kind in _PARQUET_KINDS
    return str(dtype) in _EXTENSION_DTYPES


def _index_meta(index: pd.Index, where: str) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        msg = f"{where}: a MultiIndex is not stored"
        raise UnsupportedContentError(msg)
    meta: dict[str, Any] = {"name": _json_scalars([index.name], f"{where} index name")[0]}
    if isinstance(index, pd.RangeIndex):
        meta["range"] = [index.start, index.stop, index.step]
    else:
        meta["dtype"] = str(index.dtype)
        meta["values"] = _json_scalars(index.tolist(), f"{where} index")
    return meta


def _restore_index(meta: dict[str, Any]) -> pd.Index:
    if "range" in meta:
        start, stop, step = meta["range"]
        return pd.RangeIndex(start=start, stop=stop, step=step, name=meta["name"])
    index: pd.Index = pd.Index(meta["values"], dtype=meta["dtype"], name=meta["name"])
    return index


def _frame_meta(df: pd.DataFrame, where: str) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """A frame's metadata and object values (JSON) and its other columns (for Parquet)."""
    columns = _json_scalars(df.columns.tolist(), f"{where} column names")
    meta: dict[str, Any] = {
        "columns": columns,
        "dtypes": [str(d) for d in df.dtypes],
        "index": _index_meta(df.index, where),
        "columns_name": _json_scalars([df.columns.name], f"{where} columns name")[0],
        "objects": {},
    }
    if not len(df):  # an empty table: its dtypes say it all
        for pos, dtype in enumerate(df.dtypes):
            if dtype != np.dtype(object) and not _parquet_dtype(dtype):
                msg = f"{where} column {columns[pos]!r}: dtype {dtype}"
                raise UnsupportedContentError(msg)
        return meta, None
    numeric: dict[str, pd.Series] = {}
    for pos in range(df.shape[1]):
        col = df.iloc[:, pos]
        if col.dtype == object:
            meta["objects"][str(pos)] = _json_scalars(col, f"{where} column {columns[pos]!r}")
        elif _parquet_dtype(col.dtype):
            numeric[f"c{pos}"] = col.reset_index(drop=True)
        else:
            msg = f"{where} column {columns[pos]!r}: dtype {col.dtype}"
            raise UnsupportedContentError(msg)
    return meta, (pd.DataFrame(numeric) if numeric else None)


@functools.lru_cache(maxsize=64)
def _empty_dtype(dtype: str) -> Any:
    return pd.api.types.pandas_dtype(dtype)


def _empty_array(dtype: str) -> Any:
    """An empty column of ``dtype``: numpy for numpy dtypes, else pandas' array."""
    resolved = _empty_dtype(dtype)
    if isinstance(resolved, np.dtype):
        return np.empty(0, dtype=resolved)
    return pd.array([], dtype=resolved)


def _restore_frame(meta: dict[str, Any], numeric: pd.DataFrame | None) -> pd.DataFrame:
    index = _restore_index(meta["index"])
    data: dict[int, Any] = {}
    for pos, dtype in enumerate(meta["dtypes"]):
        values = meta["objects"].get(str(pos))
        if values is not None:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            data[pos] = arr
        elif numeric is not None:
            data[pos] = numeric[f"c{pos}"].array
        else:
            data[pos] = _empty_array(dtype)
    df = pd.DataFrame(data, index=index, copy=False)
    df.columns = pd.Index(meta["columns"], dtype=object, name=meta["columns_name"])
    got = [str(d) for d in df.dtypes]
    if got != meta["dtypes"]:
        bad = next(i for i, d in enumerate(got) if d != meta["dtypes"][i])
        msg = f"column {meta['columns'][bad]!r} came back as {got[bad]}"
        raise _DamagedError(msg)
    return df


def write_net(net: Any, folder: Path, code: str) -> None:
    """Write a pandapower net into ``folder`` (which must exist and be empty)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames: list[pd.DataFrame] = []
    items = {str(k): _encode(v, frames, f"net.{k}") for k, v in net.items()}
    files: dict[str, Any] = {}
    metas = []
    for i, df in enumerate(frames):
        meta, numeric = _frame_meta(df, f"frame {i}")
        if numeric is not None:
            sink = pa.BufferOutputStream()
            table = pa.Table.from_pandas(numeric, preserve_index=False)
            pq.write_table(table, sink, compression="none")
            meta["parquet"] = f"frame{i}.parquet"
            _write_file(folder, meta["parquet"], sink.getvalue().to_pybytes(), files)
        metas.append(meta)
    doc = {"items": items, "frames": metas}
    _write_file(folder, "net.json", json.dumps(doc, allow_nan=True).encode(), files)
    _write_manifest(folder, "net", code, files)


def read_net(folder: Path, code: str) -> Any:
    """Read a net written by :func:`write_net`; ``_DamagedError`` if it does not match."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pandapower.auxiliary import pandapowerNet

    manifest = _read_manifest(folder, "net", code)
    doc = json.loads(_read_bytes(folder, "net.json", manifest))
    frames = []
    for meta in doc["frames"]:
        numeric = None
        if "parquet" in meta:
            data = _read_bytes(folder, meta["parquet"], manifest)
            numeric = pq.read_table(pa.BufferReader(data)).to_pandas()
        frames.append(_restore_frame(meta, numeric))
    net = pandapowerNet({})
    for key, value in doc["items"].items():
        dict.__setitem__(net, key, _decode(value, frames))
    return net


# ----------------------------------------------------------------------- the profiles


def write_profiles(prof: ProfilesLike, folder: Path, code: str) -> None:
    """Write profiles into ``folder``: raw float64 per field, JSON for the axes."""
    files: dict[str, Any] = {}
    naive = prof.time_utc.tz_convert("UTC").tz_localize(None)
    time_ns = np.ascontiguousarray(naive.to_numpy(dtype="datetime64[ns]").view(np.int64), "<i8")
    _write_file(folder, "time_utc.i8", _bytes_of(time_ns), files)
    meta: dict[str, Any] = {
        "source": prof.source,
        "n_steps": len(prof.time_utc),
        "time_name": prof.time_utc.name,
        "freq": prof.time_utc.freqstr,
        "fields": {},
    }
    for name, frame in prof.frames().items():
        values = np.ascontiguousarray(frame.to_numpy(dtype=np.float64), dtype="<f8")
        columns = _index_meta(frame.columns, f"profiles {name} columns")
        meta["fields"][name] = {"columns": columns, "file": f"{name}.f8"}
        _write_file(folder, f"{name}.f8", _bytes_of(values), files)
    _write_file(folder, "profiles.json", json.dumps(meta).encode(), files)
    _write_manifest(folder, "profiles", code, files)


def read_profiles(folder: Path, code: str, build: Callable[..., P]) -> P:
    """Read profiles written by :func:`write_profiles`; ``build(time_utc=, source=,
    **frames)`` makes the object (:class:`gridtwin.network.Profiles`)."""
    manifest = _read_manifest(folder, "profiles", code)
    meta = json.loads(_read_bytes(folder, "profiles.json", manifest))
    n = int(meta["n_steps"])
    raw = _read_bytes(folder, "time_utc.i8", manifest)
    if len(raw) != 8 * n:
        msg = "time_utc.i8 does not hold n_steps timestamps"
        raise _DamagedError(msg)
    time_ns = np.frombuffer(raw, dtype="<i8").astype(np.int64)
    idx = pd.DatetimeIndex(pd.to_datetime(time_ns, utc=True), name=meta["time_name"])
    if meta["freq"] is not None:
        idx = pd.DatetimeIndex(idx, freq=meta["freq"])
    frames = {}
    for name, field_meta in meta["fields"].items():
        cols = _restore_index(field_meta["columns"])
        values = _read_array(folder, field_meta["file"], manifest, (n, len(cols)))
        frames[name] = pd.DataFrame(values, index=idx, columns=cols, copy=False)
    return build(time_utc=idx, source=meta["source"], **frames)


# ----------------------------------------------------------------------- atomic parts


def _remove_tree(path: Path) -> None:
    """Move ``path`` aside (atomic) and delete it; quiet if it is already gone."""
    aside = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:12]}")
    try:
        path.rename(aside)
    except FileNotFoundError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _clean_leftovers(folder: Path) -> None:
    """Delete temporary folders of writers that died more than an hour ago."""
    now = time.time()
    for child in folder.glob(".*"):
        with contextlib.suppress(OSError):
            if child.is_dir() and now - child.stat().st_mtime > _STALE_TMP_S:
                shutil.rmtree(child, ignore_errors=True)


def _publish(final: Path, fill: Callable[[Path], None], replace: bool) -> None:
    """Write a part into a temporary folder beside ``final`` and rename it into place.

    With ``replace`` a damaged part at ``final`` is moved aside first. If another
    process put a part in place meanwhile, ours is dropped (theirs is as good).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        fill(tmp)
        if replace:
            _remove_tree(final)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / MANIFEST).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_keys(code_dir: Path) -> None:
    """Entries of other versions of the same grid, and dead writers' leftovers."""
    key = entry_key()
    for child in code_dir.iterdir():
        if child.is_dir() and not child.name.startswith(".") and child.name != key:
            _remove_tree(child)
    _clean_leftovers(code_dir)
    for child in code_dir.iterdir():
        if child.is_dir():
            _clean_leftovers(child)


def _touch(entry: Path) -> None:
    """Mark an entry as used now (for the least-recently-used eviction)."""
    with contextlib.suppress(OSError):
        (entry / _LAST_USED).touch()


def _last_used(entry: Path) -> float:
    for path in (entry / _LAST_USED, entry):
        with contextlib.suppress(OSError):
            return path.stat().st_mtime
    return 0.0


def _evict(root: Path, written: Path) -> list[str]:
    """Remove the least recently used entries until the cache fits its cap; the notes."""
    cap = max_bytes()
    found = [(e.path, e.size_bytes) for e in entries(root)]
    total = sum(size for _, size in found)
    notes: list[str] = []
    for path, size in sorted(found, key=lambda item: _last_used(item[0])):
        if total <= cap:
            break
        if path == written:
            continue
        _remove_tree(path)
        total -= size
    if total > cap:
        size = next((s for p, s in found if p == written), 0)
        _remove_tree(written)
        notes.append(
            f"SimBench grid {written.parent.name} was not kept in the cache: it takes "
            f"{size / 1e9:.1f} GB and the cache may hold {cap / 1e9:.1f} GB; raise "
            f"{MAX_GB_ENV_VAR} to keep it"
        )
    return notes


# ----------------------------------------------------------------------- load with the cache


@dataclass
class _Part:
    """One part of an entry (``net`` or ``profiles``) and the notes of using it."""

    folder: Path
    code: str
    notes: list[str]
    damaged: bool = False

    def read(self, reader: Callable[[Path, str], Any]) -> Any:
        """The part's content, or None if missing or damaged (noted)."""
        if not self.folder.is_dir():
            return None
        try:
            return reader(self.folder, self.code)
        # a damaged cache must never stop a load: anything it raises means "rebuild"
        except Exception as exc:
            self.damaged = True
            self.notes.append(
                f"SimBench cache entry {self.folder} was damaged ({type(exc).__name__}: "
                f"{exc}); rebuilt from SimBench's CSV files"
            )
            return None

    def write(self, writer: Callable[[Any, Path, str], None], content: Any) -> None:
        """Store the content; a failure is a note, never an error."""
        try:
            _publish(self.folder, lambda tmp: writer(content, tmp, self.code), self.damaged)
            _remove_stale_keys(self.folder.parent.parent)
            _touch(self.folder.parent)
            with contextlib.suppress(OSError):  # best effort: the next write tries again
                self.notes.extend(
                    _evict(self.folder.parent.parent.parent.parent, self.folder.parent)
                )
        except UnsupportedContentError as exc:
            self.notes.append(f"SimBench grid {self.code} was not cached: {exc}")
        except OSError as exc:
            self.notes.append(
                f"SimBench cache folder {self.folder.parent} is not writable ({exc}); "
                f"loaded {self.code} without the cache. Set {ENV_VAR} to a writable "
                "folder, or to 'off'"
            )
        except Exception as exc:  # caching is an optimisation only
            self.notes.append(f"SimBench grid {self.code} was not cached: {exc!r}")


def load(
    code: str,
    cache: bool | str | Path | None,
    *,
    profiles: bool,
    read_source: Callable[[], Any],
    make_profiles: Callable[[Any], P],
    build_profiles: Callable[..., P],
) -> tuple[Any, P | None, list[str]]:
    """A SimBench net and (with ``profiles``) its profiles, from the cache if possible.

    Parameters
    ----------
    code : str
        SimBench code (the entry's folder name).
    cache : bool, str, Path or None
        See :func:`resolve_cache_dir`.
    profiles : bool
        Also return the profiles.
    read_source : callable
        Reads the net from SimBench's CSV files (on a miss).
    make_profiles : callable
        Builds the profiles from the net (on a miss).
    build_profiles : callable
        Makes the profiles object from ``time_utc=``, ``source=`` and the frames by
        field name (on a hit): :class:`gridtwin.network.Profiles`.

    Returns
    -------
    tuple
        ``(net, profiles or None, notes)``; the notes say why the cache was not used.
    """
    root = resolve_cache_dir(cache)
    if root is None or not set(code) <= _CODE_CHARS or code.startswith("."):
        net = read_source()
        return net, (make_profiles(net) if profiles else None), []
    notes: list[str] = []
    max_bytes()  # a bad setting is an error before any work is done
    entry = root / "simbench" / code / entry_key()
    if entry.is_dir():
        _touch(entry)
    part = _Part(entry / "net", code, notes)
    net = part.read(read_net)
    if net is None:
        net = read_source()
        part.write(write_net, net)
    prof: P | None = None
    if profiles:
        ppart = _Part(entry / "profiles", code, notes)
        prof = ppart.read(lambda folder, code: read_profiles(folder, code, build_profiles))
        if prof is None:
            prof = make_profiles(net)
            ppart.write(write_profiles, prof)
    return net, prof, notes


# ----------------------------------------------------------------------- listing and clearing


@dataclass(frozen=True)
class CacheEntry:
    """One cached grid version.

    Attributes
    ----------
    code : str
        SimBench code.
    key : str
        Versions of simbench, pandapower and the format.
    path : Path
        The entry's folder.
    parts : tuple of str
        Complete parts (``net``, ``profiles``).
    size_bytes : int
        Bytes on disk [B].
    current : bool
        Written by the installed versions (else stale: removed on the next load).
    """

    code: str
    key: str
    path: Path
    parts: tuple[str, ...]
    size_bytes: int
    current: bool


def _size(path: Path) -> int:
    """Bytes of the files under ``path``; files and folders that another process removes
    meanwhile (a writer's temporary folder) are skipped."""
    total = 0
    for folder, _, files in os.walk(path):  # os.walk ignores folders that vanish
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(folder) / name).stat().st_size
    return total


def entries(root: Path) -> list[CacheEntry]:
    """Every SimBench entry under the cache folder ``root``, by code and key."""
    base = root / "simbench"
    if not base.is_dir():
        return []
    key = entry_key()
    out = []
    for code_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for entry in sorted(p for p in code_dir.iterdir() if p.is_dir()):
            if entry.name.startswith("."):
                continue
            parts = tuple(p for p in ("net", "profiles") if (entry / p / MANIFEST).is_file())
            out.append(
                CacheEntry(code_dir.name, entry.name, entry, parts, _size(entry), entry.name == key)
            )
    return out


def clear(root: Path, codes: tuple[str, ...] = ()) -> int:
    """Remove the SimBench entries of ``codes`` (all when empty); the bytes freed [B]."""
    base = root / "simbench"
    if not base.is_dir():
        return 0
    targets = [base / c for c in codes] if codes else [p for p in base.iterdir() if p.is_dir()]
    freed = 0
    for target in targets:
        if target.is_dir():
            freed += _size(target)
            _remove_tree(target)
    return freed
