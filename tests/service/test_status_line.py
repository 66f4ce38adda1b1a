"""The line of the live twin's state that `gridtwin serve` (and `make run`) prints: it
says the newest interval, the extremes and the alarms as the API has them."""

from __future__ import annotations

import io
import re

import pytest

from gridtwin.service._status import state_line, status_extension
from tests.service.conftest import Api


def test_the_line_agrees_with_the_api(module_api: Api) -> None:
    runtime = module_api.state.extras["twin"]
    line = state_line(runtime)
    state = module_api.get("/api/v1/twin/state", as_="viewer").json()
    alarms = module_api.get("/api/v1/alarms", as_="viewer").json()
    assert line.startswith(f"twin {runtime.config.name}: ")
    stamp = state["time_utc"][:16].replace("T", " ")
    assert f"{stamp} UTC" in line
    low = re.search(r"lowest voltage ([0-9.]+) pu \(bus (\d+)\)", line)
    assert low is not None
    vm = runtime.latest().vm_pu
    assert float(low.group(1)) == pytest.approx(float(vm.min()), abs=5e-4)
    assert int(low.group(2)) == int(vm.idxmin())
    assert re.search(r"highest loading \d+ % \((line|trafo) \d+\)", line)
    n_active = len(alarms["alarms"]) if isinstance(alarms, dict) else len(alarms)
    assert f"{n_active} active alarm(s)" in line


def test_the_extension_prints_while_the_app_runs(module_api: Api) -> None:
    import anyio

    out = io.StringIO()
    ext = status_extension(0.05, out=out)

    async def serve_a_moment() -> None:
        async with ext(module_api.state):
            await anyio.sleep(0.3)

    anyio.run(serve_a_moment)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2
    assert all(ln.startswith("twin ") for ln in lines)
