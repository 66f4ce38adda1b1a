"""Session-wide test settings: the suite never writes into the user's cache folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _gridtwin_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``GRIDTWIN_CACHE_DIR`` points to a temporary folder for the whole session (each
    xdist worker has its own), so SimBench grids are cached there, not in ``~/.cache``.

    The folder is removed at the end: a year of profiles of a large grid takes gigabytes,
    and pytest keeps the temporary folders of earlier runs.
    """
    folder = tmp_path_factory.mktemp("gridtwin-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDTWIN_CACHE_DIR", str(folder))
        yield
    shutil.rmtree(folder, ignore_errors=True)
