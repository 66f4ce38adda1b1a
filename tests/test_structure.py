"""The package's structure: no import circle, layers that point down, heavy libraries loaded
only where used, and the checker itself catching what it is meant to catch."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "gridtwin"


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_structure", ROOT / "scripts" / "check_structure.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


#: Libraries that take long to import (the checker's list): never loaded by the command
#: line's start, nor by importing a package of gridtwin (only by the functions using them).
HEAVY = tuple(sorted(_checker().HEAVY_LIBRARIES))


def _loaded_after(statement: str) -> list[str]:
    """Top-level modules in ``sys.modules`` after ``statement`` in a fresh interpreter."""
    code = (
        f"{statement}\nimport json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_package_passes_its_structure_check() -> None:
    problems = _checker().check(PACKAGE)
    assert problems == [], "\n".join(problems)


def test_the_command_line_starts_without_the_domain() -> None:
    loaded = _loaded_after("import gridtwin.cli")
    assert [m for m in (*HEAVY, "pandas", "numpy", "pyarrow") if m in loaded] == []


@pytest.mark.parametrize(
    "package",
    [
        "network",
        "quality",
        "heatnet",
        "tariffs",
        "billing",
        "calendar",
        "ingest",
        "workflows",
        "forecast",
    ],
)
def test_importing_a_package_loads_no_heavy_library(package: str) -> None:
    loaded = _loaded_after(f"import gridtwin.{package}")
    assert [m for m in HEAVY if m in loaded] == []


# --------------------------------------------------------------------------- the checker


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "gridtwin"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for folder in {p.parent for p in root.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return root


def test_checker_finds_a_circle_through_a_deferred_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "network/a.py": "from gridtwin.network import b\n",
            "network/b.py": "def f() -> None:\n    from gridtwin.network import a\n",
        },
    )
    problems = _checker().check(root)
    assert any(p.startswith("import circle:") and "gridtwin.network.a" in p for p in problems)


def test_checker_finds_imports_that_point_up_or_sideways(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "cli/main.py": "import typer\n",
            "workflows/twin.py": "from gridtwin.network import model\n",
            "network/model.py": "from gridtwin.workflows import twin\n",
            "quality/limits.py": "from gridtwin.network import model\n",
            "heatnet/report.py": "import rich\n",
            "ingest/files.py": "from gridtwin.quality import limits\n",
        },
    )
    problems = "\n".join(_checker().check(root))
    assert "domain 'network' imports workflows 'workflows' (points up)" in problems
    assert "domain 'quality' imports domain 'network', which is not a declared" in problems
    assert "domain code imports rich (adapters only)" in problems
    assert "data 'ingest' imports domain 'quality' (sideways)" in problems
    assert "cli/main.py" not in problems  # typer is the adapters' own


def test_checker_finds_heavy_imports_at_package_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "network/__init__.py": "from gridtwin.network import solver\n",
            "network/solver.py": "import numba\n",
            "network/lazy.py": "def f() -> None:\n    import scipy\n",
        },
    )
    problems = _checker().check(root)
    assert any("solver.py:1: numba imported at package import" in p for p in problems)
    assert not any("lazy.py" in p for p in problems)


def test_checker_wants_a_reason_for_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(101))
    root = _package(
        tmp_path,
        {
            "network/long.py": f'def long_one() -> None:\n    """Doc."""\n{body}',
            "network/kernel.py": f"# long: one compiled loop\ndef kernel() -> None:\n{body}",
            "network/short.py": f'def short() -> None:\n    """Doc.\n\n{body}"""\n',
        },
    )
    problems = _checker().check(root)
    # the signature and 101 statements; the docstring does not count
    assert any("long_one has 102 lines of code" in p for p in problems)
    assert not any("kernel" in p or "short" in p for p in problems)


def test_the_workflows_package_loads_its_modules_on_first_use() -> None:
    import gridtwin.workflows as workflows

    exports = workflows._EXPORTS
    assert sorted(exports) == sorted(workflows.__all__)
    for name in workflows.__all__:
        module = importlib.import_module(f"gridtwin.workflows.{exports[name]}")
        assert getattr(workflows, name) is getattr(module, name)
    code = (
        "import sys, gridtwin.workflows.tariffs\n"
        "print(sorted(m for m in sys.modules if m.startswith('gridtwin.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    for other in ("gridtwin.network", "gridtwin.quality", "gridtwin.heatnet"):
        assert f"'{other}'" not in out  # one workflow does not load the others' domains
