"""The folder list is the architecture: the dependency rules between sdl_tracker's packages, read
from every module's imports with `ast` (CONTRIBUTING.md states them for people)."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sdl_tracker"
MAX_TOP_LEVEL_MODULES = 8

# (importing area, imported area, why): an area is a package under sdl_tracker/, or a module.
FORBIDDEN = (
    ("exporters", "collectors", "an exporter reads the ledger, never runs a collector"),
    ("exporters", "hooks", "an exporter reads the ledger, never a hook"),
    ("org", "collectors", "the organisation view reads the ledger, never runs a collector"),
    ("org", "hooks", "the organisation view reads the ledger, never a hook"),
    ("collectors", "exporters", "a collector makes evidence; it never reads reports back"),
    ("collectors", "cli", "a collector is called by commands, never the other way round"),
    ("collectors", "conformance", "a collector never decides whether a requirement is met"),
    ("conformance", "cli", "judging is pure: it never calls a command"),
    ("conformance", "hooks", "judging is pure: it never calls a hook"),
    ("policy", "cli", "the policy is data: it never calls a command"),
    ("policy", "hooks", "the policy is data: it never calls a hook"),
    ("policy", "conformance", "the policy is read before anything is judged"),
)
# The ledger stores bytes: it may use the shared records and errors, the git layer, and the
# package's version string, nothing else.
LEDGER_MAY_USE = ("ledger", "models", "errors", "gitdata", "")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    line: int
    target: str  # the imported module, dotted
    runtime: bool  # False under `if TYPE_CHECKING:`


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports(root: Path) -> tuple[set[str], list[Import]]:
    """Every module under `root` and every import of a module of `root` they make."""
    files = sorted(root.rglob("*.py"))
    modules = {_module_name(f, root) for f in files}
    found: list[Import] = []
    for f in files:
        name = _module_name(f, root)
        tree = ast.parse(f.read_text(encoding="utf-8"), str(f))
        for node, runtime in _walk(tree, runtime=True):
            for target in _targets(node, name, f.name == "__init__.py", modules, root.name):
                found.append(Import(name, node.lineno, target, runtime))
    return modules, found


def _walk(node: ast.AST, runtime: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, runtime
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from _walk(child, runtime=False)
        else:
            yield from _walk(child, runtime)


def _targets(
    node: ast.Import | ast.ImportFrom, name: str, is_init: bool, modules: set[str], top: str
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names if a.name.split(".")[0] == top)
        return
    base = node.module or ""
    if node.level:
        package = name if is_init else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    if base.split(".")[0] != top:
        return
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        yield sub if sub in modules else base


def area(module: str) -> str:
    """`sdl_tracker.collectors.deps.osv` → `collectors`; a top-level module is its own area;
    the package itself is ``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(imports: list[Import]) -> list[str]:
    """Each import that breaks a layering rule, as `module:line imports target (why)`."""
    found = []
    for imp in imports:
        src, dst = area(imp.module), area(imp.target)
        for importer, imported, why in FORBIDDEN:
            if src == importer and dst == imported:
                found.append(f"{imp.module}:{imp.line} imports {imp.target} ({why})")
        if src == "ledger" and dst not in LEDGER_MAY_USE:
            found.append(
                f"{imp.module}:{imp.line} imports {imp.target} (the ledger may use only "
                "models, errors and the git layer)"
            )
    return found


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The import cycles of a module graph, each as the modules in order (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _graph(imports: list[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if imp.runtime and imp.target != imp.module:
            edges.setdefault(imp.module, set()).add(imp.target)
    return edges


MODULES, IMPORTS = read_imports(PACKAGE)


def test_the_package_keeps_its_layering_rules() -> None:
    assert violations(IMPORTS) == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(_graph(IMPORTS)) == [], "import cycles (modules of each):"


def test_few_modules_stand_directly_under_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules directly under: {top}"


def test_the_reader_sees_every_module_and_many_imports() -> None:
    assert {"sdl_tracker.cli.main", "sdl_tracker.ledger.chain", "sdl_tracker.formats.sarif"} <= (
        MODULES
    )
    assert len(IMPORTS) > 500


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [
        ("sdl_tracker.exporters.sarif", "sdl_tracker.collectors.sast", "an exporter reads"),
        ("sdl_tracker.org.status", "sdl_tracker.hooks._base", "organisation view reads"),
        ("sdl_tracker.collectors.deps", "sdl_tracker.conformance.evaluate", "never decides"),
        ("sdl_tracker.collectors.sbom", "sdl_tracker.cli.commands.sbom", "called by commands"),
        ("sdl_tracker.policy.parse", "sdl_tracker.conformance.evidence", "read before"),
        ("sdl_tracker.conformance.judge", "sdl_tracker.hooks.gate", "judging is pure"),
        ("sdl_tracker.ledger.chain", "sdl_tracker.conformance.verdicts", "the ledger may use"),
        ("sdl_tracker.ledger.pgstore", "sdl_tracker.workspace", "the ledger may use"),
    ],
)
def test_a_forbidden_import_is_named(module: str, target: str, expected: str) -> None:
    (found,) = violations([Import(module, 7, target, runtime=True)])
    assert found.startswith(f"{module}:7 imports {target} (") and expected in found


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("sdl_tracker.ledger.gitstore", "sdl_tracker.gitdata.git"),
        ("sdl_tracker.ledger.pgschema", "sdl_tracker"),
        ("sdl_tracker.exporters.sarif", "sdl_tracker.formats.sarif"),
        ("sdl_tracker.collectors.sast", "sdl_tracker.formats.findings"),
        ("sdl_tracker.conformance.evaluate", "sdl_tracker.policy.model"),
    ],
)
def test_an_allowed_import_passes(module: str, target: str) -> None:
    assert violations([Import(module, 1, target, runtime=True)]) == []


def test_cycles_are_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_resolved_like_python_does(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("from ..other import thing\n")
    (pkg / "other.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from pkg.sub import leaf\n"
        "if TYPE_CHECKING:\n    from pkg import sub\n"
        "def f():\n    import pkg.sub.leaf\n"
    )
    modules, found = read_imports(pkg)
    assert modules == {"pkg", "pkg.sub", "pkg.sub.leaf", "pkg.other"}
    assert {(i.module, i.target, i.runtime) for i in found} == {
        ("pkg.sub", "pkg.sub.leaf", True),
        ("pkg.sub.leaf", "pkg.other", True),
        ("pkg.other", "pkg.sub.leaf", True),
        ("pkg.other", "pkg.sub", False),
    }
    assert cycles(_graph(found)) == [["pkg.other", "pkg.sub.leaf"]]
