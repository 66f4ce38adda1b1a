"""Reading measurement points from a CSV or YAML file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from gridtwin._datafile import read_data_file
from gridtwin.errors import InputError
from gridtwin.store._model import MeasurementPoint, points_from_records

__all__ = ["read_points"]


def read_points(path: Path) -> list[MeasurementPoint]:
    """Points from a CSV file (a header row with ``point_id, quantity, unit`` and any of
    ``element, phase, source, scale, offset, min_value, max_value, description``) or a
    YAML/TOML file with a list under ``points``. Every bad row is reported at once."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                rows: list[dict[str, Any]] = list(csv.DictReader(fh))
        except OSError as exc:
            msg = f"{path}: cannot read file ({exc.strerror})"
            raise InputError(msg) from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            msg = f"{path}: not a UTF-8 CSV file ({exc})"
            raise InputError(msg) from exc
        if rows and None in rows[0]:
            msg = f"{path}: row 1 has more fields than the header"
            raise InputError(msg)
    else:
        data = read_data_file(path, InputError)
        raw = data.get("points")
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            msg = f"{path}: expected a list of points under 'points'"
            raise InputError(msg)
        rows = raw
    if not rows:
        msg = f"{path}: no points in the file"
        raise InputError(msg)
    return points_from_records(rows, str(path))
