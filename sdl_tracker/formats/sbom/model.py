"""Records shared by the SBOM modules, and the product as `pyproject.toml` declares it."""

from __future__ import annotations

import ast
import configparser
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class Package:
    """One resolved component: a distribution at an exact version."""

    name: str
    """The distribution's name as published (display form)."""
    version: str
    licenses: tuple[str, ...] = ()
    """An SPDX expression (alone), or licence names/ids from metadata."""
    hashes: tuple[str, ...] = ()
    """`alg:hex` digests of the distribution files (e.g. `sha256:…`), only where known."""
    requires: tuple[str, ...] | None = None
    """Canonical names of the packages it depends on; None when unknown."""

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


@dataclass(frozen=True)
class Resolution:
    """The components of the product, its direct dependencies and what could not be resolved."""

    packages: tuple[Package, ...]
    direct: tuple[str, ...]
    """Canonical names of the product's direct dependencies."""
    problems: tuple[str, ...] = ()
    """Requirements left out (unpinned, not installed, …): the evidence is incomplete."""
    sources: tuple[str, ...] = ()
    """Files read, relative to the repository root."""


@dataclass(frozen=True)
class Project:
    """The product: `[project]` of pyproject.toml (or the directory name)."""

    name: str
    version: str | None
    dependencies: tuple[str, ...] | None
    """Declared requirement strings; None when not declared statically."""
    optional: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """`[project.optional-dependencies]`: (extra, requirement strings)."""
    python: bool = False
    """Described by a `[project]` table: a Python package (purl `pkg:pypi/...`)."""


def read_project(root: Path) -> Project:
    """The product described by `root/pyproject.toml`, falling back to the directory name."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Project(name=root.name, version=None, dependencies=None)
    try:
        data = bounded.toml_loads(path.read_text(encoding="utf-8"), str(path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: invalid TOML: {e}; fix the file, then collect again") from e
    table = data.get("project")
    if not isinstance(table, dict):
        return Project(name=root.name, version=None, dependencies=None)
    dynamic = _strings(table, "dynamic", path) or ()
    name = table.get("name", root.name)
    version = table.get("version")
    for key, value in (("name", name), ("version", version)):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{path}: project.{key}: expected a string, got {value!r}")
    deps = None if "dependencies" in dynamic else _strings(table, "dependencies", path) or ()
    extras = table.get("optional-dependencies", {})
    if not isinstance(extras, dict):
        raise InputError(f"{path}: project.optional-dependencies: expected a table")
    optional = tuple(
        (str(extra), _strings(extras, extra, path, "project.optional-dependencies.") or ())
        for extra in sorted(extras)
    )
    if version is None and "version" in dynamic:
        version = _dynamic_version(root, data)
    return Project(
        name=str(name), version=version, dependencies=deps, optional=optional, python=True
    )


def _dynamic_version(root: Path, data: dict[str, Any]) -> str | None:
    """A `dynamic` version as setuptools declares it, read without running any code:
    `[tool.setuptools.dynamic] version = {attr = "pkg.__version__"}` (a string assigned in the
    module's source) or `{file = "VERSION"}`; else setup.cfg's `[metadata] version`."""
    tool = data.get("tool")
    setuptools = tool.get("setuptools") if isinstance(tool, dict) else None
    dynamic = setuptools.get("dynamic") if isinstance(setuptools, dict) else None
    spec = dynamic.get("version") if isinstance(dynamic, dict) else None
    if isinstance(spec, dict) and isinstance(spec.get("attr"), str):
        module, _, attr = spec["attr"].rpartition(".")
        relative = Path(*module.split("."))
        for base in (root, root / "src"):
            for candidate in (base / relative / "__init__.py", base / f"{relative}.py"):
                found = _assigned(candidate, attr)
                if found is not None:
                    return found
    if isinstance(spec, dict) and isinstance(spec.get("file"), str):
        path = root / spec["file"]
        if path.is_file() and path.resolve().is_relative_to(root.resolve()):
            return path.read_text(encoding="utf-8").strip() or None
    cfg = root / "setup.cfg"
    if cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(cfg.read_text(encoding="utf-8"))
        except configparser.Error:
            return None
        value = parser.get("metadata", "version", fallback="").strip()
        return value if value and not value.startswith(("attr:", "file:")) else None
    return None


def _assigned(path: Path, name: str) -> str | None:
    """The string literal assigned to `name` at the top level of a Python source file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return None


def _strings(
    table: dict[str, Any], key: str, path: Path, prefix: str = "project."
) -> tuple[str, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{path}: {prefix}{key}: expected a list of strings, got {value!r}")
    return tuple(value)
