"""``gridtwin warn`` as a user runs it: bad input names its flag; a net without history
says what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_util import gridtwin
from tests.warning.test_warning import feeder


@pytest.mark.slow  # four CLI processes
def test_warn_names_the_flag_and_the_missing_history(tmp_path: Path) -> None:
    import pandapower as pp

    net_file = tmp_path / "feeder.json"
    pp.to_json(feeder().net, str(net_file))
    code, out = gridtwin("warn", "--net", str(net_file))
    assert code == 2
    assert "--day: give the local day" in out
    code, out = gridtwin("warn", "--net", str(net_file), "--day", "2016-3-2x")
    assert code == 2
    assert "--day '2016-3-2x': use YYYY-MM-DD" in out
    code, out = gridtwin("warn", "--net", str(net_file), "--day", "2016-03-02", "--method", "x")
    assert code == 2
    assert "--method 'x': use one of gbm" in out
    code, out = gridtwin("warn", "--net", str(net_file), "--day", "2016-03-02")
    assert code == 2
    assert "needs load history (profiles)" in out
