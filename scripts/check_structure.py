#!/usr/bin/env python3
"""Check the package's structure: no import circle, layers that only point down, sizes.

Run from the repository root (``make test`` does)::

    python scripts/check_structure.py            # exit 1 on any violation
    python scripts/check_structure.py --sizes    # also list functions over 60 lines

Every ``import`` statement under ``src/gridtwin`` counts, wherever it stands (module
level, inside a function, under ``TYPE_CHECKING``): a circle through a deferred import is
still a circle in the design. What is checked:

1. **No import circle** between modules (strongly connected components of the module
   graph; importing a package means importing its ``__init__``).
2. **Layers point down** (``docs/architecture.md``): a module may import its own layer and
   the layers below it, never above. Inside the domain, packages import each other only
   along the declared edges of :data:`DOMAIN_EDGES`; ``data`` and ``domain`` do not
   import each other.
3. **No adapter libraries below the adapters**: typer, rich, fastapi, starlette, uvicorn
   and jinja2 only in ``cli`` and ``service``.
4. **Heavy libraries are not imported at package import**: checked by the tests in
   ``tests/test_structure.py`` in a fresh interpreter (here only statically: no module
   that a package ``__init__`` imports may import them at module level).
5. **Sizes**: no module over :data:`MAX_MODULE_LINES` lines; no function over
   :data:`MAX_FUNCTION_LINES` lines of code (docstring excluded) unless the line before
   its ``def`` (or its decorators) holds a comment ``# long: <reason>``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "gridtwin"

#: Top-level parts of the package and their layer (higher may import lower).
LAYERS: dict[str, tuple[str, int]] = {
    # adapters
    "cli": ("adapters", 4),
    "service": ("adapters", 4),
    "__main__": ("adapters", 4),
    # workflows
    "workflows": ("workflows", 3),
    "distributed": ("workflows", 3),
    "warning": ("workflows", 3),  # early warning: forecast + network + alarms
    # domain
    "calendar": ("domain", 2),
    "tariffs": ("domain", 2),
    "billing": ("domain", 2),
    "network": ("domain", 2),
    "quality": ("domain", 2),
    "heatnet": ("domain", 2),
    "forecast": ("domain", 2),
    "alarms": ("domain", 2),
    "assets": ("domain", 2),
    # data
    "store": ("data", 2),
    "ingest": ("data", 2),
    "synthetic": ("data", 2),
    # foundation: types and helpers every layer may use
    "__init__": ("foundation", 0),
    "errors": ("foundation", 0),
    "timeseries": ("foundation", 0),
    "_datafile": ("foundation", 0),
    "_parquet": ("foundation", 0),
}

#: Declared interfaces between domain packages (importer -> imported). Anything else
#: sideways in the domain is a violation. See docs/architecture.md.
DOMAIN_EDGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("tariffs", "calendar"),  # tariffs are evaluated on calendars
        ("billing", "calendar"),
        ("billing", "tariffs"),  # billing evaluates tariffs
        ("network", "quality"),  # quality's pure limit evaluation of simulated voltages
        ("alarms", "quality"),  # customer-voltage limit references (standard:<id>:<item>)
        ("assets", "alarms"),  # equipment-trend warnings are the alarm system's PotentialAlarm
    }
)

ADAPTER_LIBRARIES = frozenset({"typer", "rich", "fastapi", "starlette", "uvicorn", "jinja2"})
HEAVY_LIBRARIES = frozenset(
    {
        "pandapower",
        "power_grid_model",
        "numba",
        "scipy",
        "plotly",
        "simbench",
        "networkx",
        "comtrade",
        "lxml",
        "pypowsybl",
        "lightgbm",
        "statsforecast",
    }
)
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 100
REPORT_FUNCTION_LINES = 60
LONG_MARKER = "# long:"


@dataclass
class Module:
    """One module of the package and what it imports."""

    name: str  # dotted, e.g. gridtwin.network._model
    path: Path
    is_package: bool
    lines: int
    imports: list[tuple[str, int, bool]] = field(default_factory=list)  # (name, line, top)
    external_top: list[tuple[str, int]] = field(default_factory=list)  # module-level 3rd party


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _resolve(mod: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.name.split(".")
    if not mod.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _top_level_nodes(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements executed at import (module body, also inside if/try, not functions)."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        if isinstance(node, ast.If | ast.Try | ast.With):
            for attr in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, attr, []):
                    if isinstance(child, ast.ExceptHandler):
                        stack.extend(child.body)
                    else:
                        stack.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def load_modules(root: Path) -> dict[str, Module]:
    """Parse every module under ``root`` (the package directory)."""
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name, is_package = _module_name(root, path)
        mod = Module(name, path, is_package, text.count("\n") + 1)
        tree = ast.parse(text, filename=str(path))
        top_ids = {id(n) for n in _top_level_nodes(tree)}
        for node in ast.walk(tree):
            top = id(node) in top_ids
            if isinstance(node, ast.Import):
                for alias in node.names:
                    mod.imports.append((alias.name, node.lineno, top))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, node)
                for alias in node.names:
                    # "from pkg import sub" may name a submodule
                    mod.imports.append((f"{target}.{alias.name}", node.lineno, top))
        modules[name] = mod
    return modules


def _internal_target(name: str, modules: dict[str, Module]) -> str | None:
    """The longest module of ours that ``name`` denotes (or lies in)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Module -> modules of ours it imports (a package import means its __init__; a
    module import also runs the __init__ of every package above it)."""
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for mod in modules.values():
        for name, _line, _top in mod.imports:
            target = _internal_target(name, modules)
            if target is None or target == mod.name:
                continue
            edges[mod.name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_violations(modules: dict[str, Module]) -> list[str]:
    """Imports that point up a layer, sideways without a declared edge, or use an adapter
    library below the adapters."""
    out: list[str] = []
    for mod in modules.values():
        part = _part(mod.name)
        if part not in LAYERS:
            out.append(f"{mod.path}: package part {part!r} has no layer in LAYERS")
            continue
        layer, rank = LAYERS[part]
        for name, line, _top in mod.imports:
            where = f"{mod.path}:{line}"
            top_lib = name.split(".")[0]
            if top_lib in ADAPTER_LIBRARIES and layer != "adapters":
                out.append(f"{where}: {layer} code imports {top_lib} (adapters only)")
            target = _internal_target(name, modules)
            if target is None:
                continue
            other = _part(target)
            if other == part or other not in LAYERS:
                continue
            o_layer, o_rank = LAYERS[other]
            if o_rank > rank:
                out.append(f"{where}: {layer} {part!r} imports {o_layer} {other!r} (points up)")
            elif o_rank == rank and layer != o_layer and rank > 0:
                out.append(f"{where}: {layer} {part!r} imports {o_layer} {other!r} (sideways)")
            elif o_rank == rank and layer == "domain" and (part, other) not in DOMAIN_EDGES:
                out.append(
                    f"{where}: domain {part!r} imports domain {other!r}, which is not a "
                    "declared interface (DOMAIN_EDGES)"
                )
    return out


def heavy_at_import(modules: dict[str, Module], edges: dict[str, set[str]]) -> list[str]:
    """Heavy libraries imported at module level by a module that ``import gridtwin.X``
    loads for any public package X (the closure of module-level imports)."""
    top_edges: dict[str, set[str]] = {m: set() for m in modules}
    for mod in modules.values():
        for name, _line, top in mod.imports:
            target = _internal_target(name, modules)
            if top and target is not None and target != mod.name:
                top_edges[mod.name].add(target)
    roots = [m for m in modules if m.count(".") == 1 and modules[m].is_package] + [PACKAGE]
    loaded: set[str] = set()
    todo = list(roots)
    while todo:
        m = todo.pop()
        if m in loaded:
            continue
        loaded.add(m)
        # importing a.b.c runs a/__init__ and a.b/__init__ first
        parts = m.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]))
        todo.extend(top_edges[m])
    out = []
    for m in sorted(loaded):
        for name, line, top in modules[m].imports:
            if top and name.split(".")[0] in HEAVY_LIBRARIES:
                out.append(
                    f"{modules[m].path}:{line}: {name.split('.')[0]} imported at package "
                    "import (import it where it is used)"
                )
    return out


@dataclass(frozen=True)
class FunctionSize:
    """A function's length in lines of code (docstring excluded)."""

    path: Path
    name: str
    line: int
    code_lines: int
    reason: str | None


def _functions(tree: ast.AST) -> Iterable[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def function_sizes(modules: dict[str, Module]) -> list[FunctionSize]:
    """Every function with its code lines and its stated reason for being long, if any."""
    out = []
    for mod in modules.values():
        text = mod.path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(text))
        for fn in _functions(tree):
            end = fn.end_lineno or fn.lineno
            lines = end - fn.lineno + 1
            body = fn.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                doc = body[0]
                lines -= (doc.end_lineno or doc.lineno) - doc.lineno + 1
            first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
            above = text[first - 2].strip() if first >= 2 else ""
            reason = above[len(LONG_MARKER) :].strip() if above.startswith(LONG_MARKER) else None
            out.append(FunctionSize(mod.path, fn.name, fn.lineno, lines, reason))
    return out


def size_violations(modules: dict[str, Module]) -> list[str]:
    """Modules over the line limit and long functions without a stated reason."""
    out = [
        f"{m.path}: {m.lines} lines (limit {MAX_MODULE_LINES}; split it by topic)"
        for m in modules.values()
        if m.lines > MAX_MODULE_LINES
    ]
    out += [
        f"{f.path}:{f.line}: {f.name} has {f.code_lines} lines of code (limit "
        f"{MAX_FUNCTION_LINES}; split it or state why above it as '{LONG_MARKER} ...')"
        for f in function_sizes(modules)
        if f.code_lines > MAX_FUNCTION_LINES and not f.reason
    ]
    return out


def check(root: Path) -> list[str]:
    """Every violation found in the package at ``root``."""
    modules = load_modules(root)
    edges = graph(modules)
    problems = ["import circle: " + " <-> ".join(comp) for comp in cycles(edges)]
    problems += layer_violations(modules)
    problems += heavy_at_import(modules, edges)
    problems += size_violations(modules)
    return list(dict.fromkeys(problems))  # one line per finding


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", nargs="?", default="src/gridtwin", help="package directory")
    ap.add_argument(
        "--sizes", action="store_true", help=f"list functions over {REPORT_FUNCTION_LINES} lines"
    )
    args = ap.parse_args(argv)
    root = Path(args.root)
    if not (root / "__init__.py").is_file():
        print(f"{root}: not a package directory (no __init__.py)", file=sys.stderr)
        return 2
    modules = load_modules(root)
    if args.sizes:
        sizes = sorted(function_sizes(modules), key=lambda f: -f.code_lines)
        for f in sizes:
            if f.code_lines > REPORT_FUNCTION_LINES:
                why = f"  ({LONG_MARKER} {f.reason})" if f.reason else ""
                print(f"{f.code_lines:5d}  {f.path}:{f.line} {f.name}{why}")
        n_long = sum(f.code_lines > REPORT_FUNCTION_LINES for f in sizes)
        print(f"{n_long} of {len(sizes)} functions over {REPORT_FUNCTION_LINES} lines of code")
    problems = check(root)
    n_edges = sum(len(v) for v in graph(modules).values())
    for p in problems:
        print(p, file=sys.stderr)
    status = "FAILED" if problems else "ok"
    print(
        f"structure {status}: {len(modules)} modules, {n_edges} internal imports, "
        f"{len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
