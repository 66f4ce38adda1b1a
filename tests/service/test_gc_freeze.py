"""The running service keeps what was alive at its start out of the collector's full
passes (they walked the whole heap and stopped every request for 60-130 ms at 200
requests/s) and gives it back when it stops."""

from __future__ import annotations

import gc
from pathlib import Path

from gridtwin.service.settings import ServiceSettings
from tests.service.conftest import make_store, running


def test_the_heap_of_the_start_is_frozen_while_the_service_runs(tmp_path: Path) -> None:
    settings = ServiceSettings(store=make_store(tmp_path))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with running(settings) as api:
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the modules, the app, the store: far more than a few
        assert api.request("GET", "/api/v1/health").status_code == 200
        gc.collect()  # a full pass does not thaw them (a few are freed by refcount)
        assert gc.get_freeze_count() > frozen * 0.9
    assert gc.get_freeze_count() == 0
