"""The disk cache of SimBench grids: exact round trips, invalidation, damage, concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest
from pandapower.toolbox import nets_equal
from typer.testing import CliRunner

from gridtwin.cli import app as cli_app
from gridtwin.errors import InputError
from gridtwin.network import Profiles, load_simbench
from gridtwin.network import _simbench_cache as sc
from tests.network.util import LV_CODE, MV_CODE

HV_CODE = "1-HV-mixed--0-sw"
FAKE_CODE = "example-simple"
runner = CliRunner()


def assert_same(a: Any, b: Any, where: str = "net") -> None:
    """Equal item by item: frames with dtypes, index types and the type of every object."""
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), where
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
        assert type(a.index) is type(b.index), where
        for col in a.columns[[d == np.dtype(object) for d in a.dtypes]]:
            assert [type(v) for v in a[col]] == [type(v) for v in b[col]], (where, col)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    else:
        assert type(a) is type(b), (where, a, b)
        assert a is b or a == b or (a != a and b != b), (where, a, b)


def assert_profiles_identical(a: Profiles, b: Profiles) -> None:
    assert a.time_utc.equals(b.time_utc)
    assert a.time_utc.freq == b.time_utc.freq
    assert a.source == b.source
    for name, frame in a.frames().items():
        other = b.frames()[name]
        pd.testing.assert_index_equal(frame.columns, other.columns, exact=True)
        assert np.array_equal(frame.to_numpy().view(np.int64), other.to_numpy().view(np.int64))


def fake_source() -> tuple[Any, Any]:
    """A cheap stand-in for SimBench: pandapower's example net and random profiles."""

    def read_source() -> Any:
        read_source.calls += 1  # type: ignore[attr-defined]
        return pn.example_simple()

    def make_profiles(net: Any) -> Profiles:
        idx = pd.date_range("2016-01-01", periods=96, freq="15min", tz="UTC", name="time_utc")
        rng = np.random.default_rng(1)
        p = pd.DataFrame(rng.random((96, len(net.load))), index=idx, columns=net.load.index)
        return Profiles.from_frames(idx, source="fake", load_p_mw=p, load_q_mvar=0.3 * p)

    read_source.calls = 0  # type: ignore[attr-defined]
    return read_source, make_profiles


def load_fake(root: Path | str | bool | None) -> tuple[Any, Profiles | None, list[str], int]:
    read_source, make_profiles = fake_source()
    net, prof, notes = sc.load(
        FAKE_CODE,
        root,
        profiles=True,
        read_source=read_source,
        make_profiles=make_profiles,
        build_profiles=Profiles,
    )
    return net, prof, notes, read_source.calls  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "code",
    [
        LV_CODE,
        pytest.param(MV_CODE, marks=pytest.mark.slow),
        pytest.param(HV_CODE, marks=pytest.mark.slow),
    ],
)
def test_simbench_round_trip_is_exact(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = load_simbench(code, cache=tmp_path)  # a miss: read from the CSV files
    assert reference.notes == ()
    assert (tmp_path / "simbench" / code / sc.entry_key() / "profiles" / sc.MANIFEST).is_file()
    import simbench

    def no_csv(*args: Any, **kwargs: Any) -> Any:
        msg = "the second load read SimBench's CSV files"
        raise AssertionError(msg)

    monkeypatch.setattr(simbench, "get_simbench_net", no_csv)
    monkeypatch.setattr(simbench, "get_absolute_values", no_csv)
    again = load_simbench(code, cache=tmp_path)
    assert again.notes == ()
    assert type(again.net) is type(reference.net)
    assert nets_equal(reference.net, again.net)
    assert_same(dict(reference.net), dict(again.net))
    assert reference.profiles is not None
    assert again.profiles is not None
    assert_profiles_identical(reference.profiles, again.profiles)
    assert (again.name, again.source) == (reference.name, reference.source)
    net_only = load_simbench(code, profiles=False, cache=tmp_path)
    assert net_only.profiles is None
    assert nets_equal(reference.net, net_only.net)


@pytest.mark.filterwarnings("ignore:tap_dependency_table is missing:DeprecationWarning")
@pytest.mark.parametrize(
    "make_net", [pn.mv_oberrhein, pn.create_cigre_network_mv, pn.example_multivoltage]
)
def test_pandapower_networks_round_trip(make_net: Any, tmp_path: Path) -> None:
    """pandapower's own nets (geodata, std_types, trafo3w ...) come back equal, or are
    refused as unsupported -- never changed."""
    net = make_net()
    try:
        sc.write_net(net, tmp_path, "x")
    except sc.UnsupportedContentError:
        return
    back = sc.read_net(tmp_path, "x")
    assert nets_equal(net, back)
    assert_same(dict(net), dict(back))
    pp.runpp(back)
    pp.runpp(net)
    assert np.abs(back.res_bus.vm_pu - net.res_bus.vm_pu).max() == 0.0


def test_second_load_hits_and_first_writes(tmp_path: Path) -> None:
    net, prof, notes, calls = load_fake(tmp_path)
    assert (notes, calls) == ([], 1)
    net2, prof2, notes2, calls2 = load_fake(tmp_path)
    assert (notes2, calls2) == ([], 0)
    assert nets_equal(net, net2)
    assert prof is not None
    assert prof2 is not None
    assert_profiles_identical(prof, prof2)
    entry = tmp_path / "simbench" / FAKE_CODE / sc.entry_key()
    assert (entry / "net" / sc.MANIFEST).is_file()
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_another_version_misses_and_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_fake(tmp_path)
    old_key = sc.entry_key()
    monkeypatch.setattr(sc, "_version", lambda dist: "99.0" if dist == "simbench" else "3")
    assert sc.entry_key() != old_key
    _, _, notes, calls = load_fake(tmp_path)
    assert (notes, calls) == ([], 1)
    keys = [p.name for p in (tmp_path / "simbench" / FAKE_CODE).iterdir()]
    assert keys == [sc.entry_key()]  # the stale version is gone
    monkeypatch.setattr(sc, "FORMAT_VERSION", sc.FORMAT_VERSION + 1)
    assert load_fake(tmp_path)[3] == 1
    assert load_fake(tmp_path)[3] == 0


def _damage_parquet(part: Path) -> None:
    victim = next(part.glob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:-10])


def _flip_profile_byte(part: Path) -> None:
    victim = part / "load_p_mw.f8"
    data = bytearray(victim.read_bytes())
    data[100] ^= 1
    victim.write_bytes(bytes(data))


def _drop_manifest(part: Path) -> None:
    (part / sc.MANIFEST).unlink()


def _garble_json(part: Path) -> None:
    (part / "net.json").write_text("{not json", encoding="utf-8")


@pytest.mark.parametrize(
    ("part_name", "damage"),
    [
        ("net", _damage_parquet),
        ("profiles", _flip_profile_byte),
        ("net", _drop_manifest),
        ("net", _garble_json),
    ],
)
def test_damaged_entry_is_rebuilt_with_a_note(tmp_path: Path, part_name: str, damage: Any) -> None:
    net, prof, _, _ = load_fake(tmp_path)
    part = tmp_path / "simbench" / FAKE_CODE / sc.entry_key() / part_name
    damage(part)
    net2, prof2, notes, _ = load_fake(tmp_path)
    assert len(notes) == 1
    assert "damaged" in notes[0]
    assert str(part) in notes[0]
    assert nets_equal(net, net2)
    assert prof is not None
    assert prof2 is not None
    assert_profiles_identical(prof, prof2)
    net3, _, notes3, calls3 = load_fake(tmp_path)  # rebuilt: a clean hit again
    assert (notes3, calls3) == ([], 0)
    assert nets_equal(net, net3)


def test_unwritable_cache_folder_means_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    net, prof, notes, calls = load_fake(blocker)
    assert calls == 1
    assert net is not None
    assert prof is not None
    assert len(notes) == 2  # the net and the profiles could not be written
    assert "not writable" in notes[0]
    assert "GRIDTWIN_CACHE_DIR" in notes[0]


def test_unsupported_content_is_not_cached(tmp_path: Path) -> None:
    def read_source() -> Any:
        net = pn.example_simple()
        net.bus["note"] = [("a", 1)] + [None] * (len(net.bus) - 1)  # a tuple: not stored
        return net

    net, _, notes = sc.load(
        FAKE_CODE,
        tmp_path,
        profiles=False,
        read_source=read_source,
        make_profiles=None,  # type: ignore[arg-type]
        build_profiles=Profiles,
    )
    assert net.bus["note"].iloc[0] == ("a", 1)
    assert len(notes) == 1
    assert "not cached" in notes[0]
    assert "tuple" in notes[0]
    assert not (tmp_path / "simbench" / FAKE_CODE / sc.entry_key() / "net").exists()


def test_cache_switches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_fake(False)[2:] == ([], 1)
    monkeypatch.setenv(sc.ENV_VAR, str(tmp_path / "env"))
    assert sc.resolve_cache_dir(None) == tmp_path / "env"
    load_fake(None)
    assert (tmp_path / "env" / "simbench" / FAKE_CODE).is_dir()
    monkeypatch.setenv(sc.ENV_VAR, "off")
    assert sc.resolve_cache_dir(None) is None
    assert sc.resolve_cache_dir(tmp_path) == tmp_path
    monkeypatch.delenv(sc.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert sc.resolve_cache_dir(True) == tmp_path / "xdg" / "gridtwin"


def test_the_suite_never_uses_the_user_cache() -> None:
    configured = Path(os.environ[sc.ENV_VAR])
    assert sc.resolve_cache_dir(None) == configured
    assert "gridtwin-cache" in configured.name


_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np, pandas as pd, pandapower.networks as pn
    from gridtwin.network import Profiles
    from gridtwin.network import _simbench_cache as sc
    root, start = sys.argv[1], float(sys.argv[2])
    def make_profiles(net):
        idx = pd.date_range("2016-01-01", periods=35136, freq="15min", tz="UTC")
        p = pd.DataFrame(np.ones((35136, len(net.load))), index=idx, columns=net.load.index)
        return Profiles.from_frames(idx, source="fake", load_p_mw=p)
    time.sleep(max(0.0, start - time.time()))
    notes = []
    for i in range(6):  # both writers miss the same grid at the same moment
        net, prof, more = sc.load(f"example-simple-{i}", root, profiles=True,
                                  read_source=pn.example_simple, make_profiles=make_profiles,
                                  build_profiles=Profiles)
        notes += more
    print("; ".join(notes), file=sys.stderr)
    print(len(notes))
    """
)


@pytest.mark.slow
def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    import time

    start = time.time() + 4.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]  # both pipes closed
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert out.strip().splitlines()[-1] == "0", err[-2000:]
    for i in range(6):
        folder = tmp_path / "simbench" / f"example-simple-{i}" / sc.entry_key()
        assert nets_equal(sc.read_net(folder / "net", f"example-simple-{i}"), pn.example_simple())
        prof = sc.read_profiles(folder / "profiles", f"example-simple-{i}", Profiles)
        assert prof.load_p_mw.to_numpy().sum() == 35136
    leftovers = [p.name for p in tmp_path.rglob(".*")]
    assert leftovers == []


def test_cli_cache_info_and_clear(tmp_path: Path) -> None:
    load_fake(tmp_path)
    out = runner.invoke(cli_app, ["cache", "info", "--dir", str(tmp_path), "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["cache_dir"] == str(tmp_path)
    [entry] = doc["entries"]
    assert entry["code"] == FAKE_CODE
    assert entry["parts"] == ["net", "profiles"]
    assert entry["current"] is True
    on_disk = sum(p.stat().st_size for p in Path(entry["path"]).rglob("*") if p.is_file())
    assert entry["size_bytes"] == on_disk > 0
    out = runner.invoke(cli_app, ["cache", "info", "--dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert FAKE_CODE in out.output
    out = runner.invoke(cli_app, ["cache", "clear", "--dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "removed" in out.output
    assert sc.entries(tmp_path) == []
    out = runner.invoke(cli_app, ["cache", "info", "--dir", str(tmp_path)])
    assert "no cached SimBench grids" in out.output


def test_cli_cache_uses_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sc.ENV_VAR, str(tmp_path))
    load_fake(None)
    out = runner.invoke(cli_app, ["cache", "clear", FAKE_CODE])
    assert out.exit_code == 0, out.output
    assert not (tmp_path / "simbench" / FAKE_CODE).exists()
    out = runner.invoke(cli_app, ["cache", "info", "--format", "yaml"])
    assert out.exit_code == 2
    assert "--format" in out.output


def _load_code(root: Path, code: str) -> list[str]:
    read_source, make_profiles = fake_source()
    return sc.load(
        code,
        root,
        profiles=True,
        read_source=read_source,
        make_profiles=make_profiles,
        build_profiles=Profiles,
    )[2]


def test_cache_keeps_to_its_size_cap_least_recently_used_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load_code(tmp_path, "grid-a")
    one_entry = sc.entries(tmp_path)[0].size_bytes
    # room for two entries, not three
    monkeypatch.setenv(sc.MAX_GB_ENV_VAR, str(2.5 * one_entry / 1e9))
    _load_code(tmp_path, "grid-b")
    stamp = tmp_path / "simbench" / "grid-a" / sc.entry_key() / "last_used"
    os.utime(stamp, (1.0, 1.0))  # grid-a used long ago ...
    assert _load_code(tmp_path, "grid-a") == []  # ... and now again: a hit
    _load_code(tmp_path, "grid-c")  # grid-b is now the least recently used
    assert sorted(e.code for e in sc.entries(tmp_path)) == ["grid-a", "grid-c"]
    assert sum(e.size_bytes for e in sc.entries(tmp_path)) <= sc.max_bytes()


def test_an_entry_larger_than_the_cap_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sc.MAX_GB_ENV_VAR, "0.000001")  # 1 kB
    notes = _load_code(tmp_path, "grid-a")
    assert sc.entries(tmp_path) == []
    assert any("not kept" in n and sc.MAX_GB_ENV_VAR in n for n in notes), notes


@pytest.mark.parametrize("bad", ["lots", "-1", "nan"])
def test_a_bad_size_cap_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(sc.MAX_GB_ENV_VAR, bad)
    with pytest.raises(InputError, match=sc.MAX_GB_ENV_VAR):
        _load_code(tmp_path, "grid-a")
