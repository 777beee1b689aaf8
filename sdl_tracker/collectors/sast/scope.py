"""What sast scans when `[collectors.sast] paths` is not set: the packages the build ships.

Read from the build configuration — pyproject.toml (`[tool.setuptools] packages` or
`packages.find`, hatch wheel packages, poetry packages, flit module) or setup.cfg (`[options]
packages`, `find:` with `[options.packages.find]`) — else the top-level (or `src/`) directories
holding an `__init__.py`. Tests, docs, examples, benchmarks and scripts are never taken for
packages. Pure: the tracked file names and a reader of their text in, the scope and what it
leaves out (with how it was decided) out.
"""

from __future__ import annotations

import configparser
import fnmatch
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

NOT_SHIPPED = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks"}
    | {"scripts", "tools", "build", "dist", "site", "venv", ".venv", "node_modules"}
)

Reader = Callable[[str], str]
"""The text of a tracked file by its repository path ('' when unreadable)."""


@dataclass(frozen=True)
class Scope:
    """The paths sast scans, how they were chosen, and the Python left out."""

    paths: tuple[str, ...]
    how: str
    left_out: tuple[str, ...] = ()
    """Top-level directories and files with Python code outside `paths`, sorted."""

    def describe(self) -> str:
        """`scanned sdl_tracker (pyproject.toml …); left out: docs, tests`."""
        what = "every tracked Python file" if self.paths == (".",) else ", ".join(self.paths)
        left = f"; left out: {', '.join(self.left_out)}" if self.left_out else ""
        return f"scanned {what} ({self.how}){left}"


def shipped(files: Sequence[str], read: Reader) -> Scope:
    """The scope for a repository whose tracked files are `files`."""
    paths, how = _declared(files, read)
    paths = [p for p in paths if _exists(p, files)]
    if not paths:
        paths, how = _package_dirs(files, ""), "package directories (with __init__.py)"
    if not paths:
        return Scope((".",), "no package found")
    return Scope(tuple(paths), how, left_out(files, paths))


def left_out(files: Sequence[str], covered: Sequence[str]) -> tuple[str, ...]:
    """Top-level directories (`src/<name>` under src/) and files with Python outside `covered`."""
    left = set()
    for f in files:
        if not f.endswith(".py") or any(f == p or f.startswith(f"{p}/") for p in covered):
            continue
        parts = f.split("/")
        left.add("/".join(parts[:2]) if parts[0] == "src" and len(parts) > 2 else parts[0])
    return tuple(sorted(left))


def _exists(path: str, files: Sequence[str]) -> bool:
    return path in files or any(f.startswith(f"{path}/") for f in files)


def _declared(files: Sequence[str], read: Reader) -> tuple[list[str], str]:
    if "pyproject.toml" in files:
        found = _pyproject(_toml(read("pyproject.toml")), files)
        if found[0]:
            return found
    if "setup.cfg" in files:
        return _setup_cfg(read("setup.cfg"), files)
    return [], ""


def _pyproject(data: Mapping[str, Any], files: Sequence[str]) -> tuple[list[str], str]:
    tool = _table(data, "tool")
    setuptools = _table(tool, "setuptools")
    packages = setuptools.get("packages")
    if isinstance(packages, list):
        where = _table(setuptools, "package-dir").get("", "")
        names = [p for p in packages if isinstance(p, str)]
        return _tops(names, str(where)), "pyproject.toml [tool.setuptools] packages"
    if isinstance(packages, dict) and isinstance(packages.get("find"), dict):
        find = packages["find"]
        return _find(files, find.get("where", ["."]), find.get("include"), find.get("exclude")), (
            "pyproject.toml [tool.setuptools.packages.find]"
        )
    wheel = _table(_table(_table(_table(tool, "hatch"), "build"), "targets"), "wheel")
    if isinstance(wheel.get("packages"), list):
        found = [p.strip("/") for p in wheel["packages"] if isinstance(p, str)]
        return found, "pyproject.toml hatch wheel packages"
    poetry = _table(tool, "poetry")
    if isinstance(poetry.get("packages"), list):
        found = [
            f"{p.get('from', '')}/{p['include']}".lstrip("/")
            for p in poetry["packages"]
            if isinstance(p, dict) and isinstance(p.get("include"), str)
        ]
        return found, "pyproject.toml [tool.poetry] packages"
    flit = _table(_table(tool, "flit"), "module")
    if isinstance(flit.get("name"), str):
        return [_locate(flit["name"], files)], "pyproject.toml [tool.flit.module]"
    return [], ""


def _setup_cfg(text: str, files: Sequence[str]) -> tuple[list[str], str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return [], ""
    if not parser.has_option("options", "packages"):
        return [], ""
    value = parser.get("options", "packages").strip()
    package_dir = _lines(parser.get("options", "package_dir", fallback=""))
    where = next((d.split("=", 1)[1].strip() for d in package_dir if d.startswith("=")), "")
    if value.startswith(("find:", "find_namespace:")):
        section = "options.packages.find"
        find_where = parser.get(section, "where", fallback=where or ".")
        include = _lines(parser.get(section, "include", fallback="")) or None
        exclude = _lines(parser.get(section, "exclude", fallback="")) or None
        return _find(files, [find_where], include, exclude), "setup.cfg [options] packages = find:"
    return _tops(_lines(value), where), "setup.cfg [options] packages"


def _find(files: Sequence[str], where: Any, include: Any, exclude: Any) -> list[str]:
    bases = [w for w in where if isinstance(w, str)] if isinstance(where, list) else ["."]
    found: list[str] = []
    for base in bases:
        for path in _package_dirs(files, base.strip("./")):
            name = path.rsplit("/", 1)[-1]
            if isinstance(include, list) and not any(fnmatch.fnmatch(name, p) for p in include):
                continue
            if isinstance(exclude, list) and any(fnmatch.fnmatch(name, p) for p in exclude):
                continue
            found.append(path)
    return found


def _package_dirs(files: Sequence[str], base: str) -> list[str]:
    """Directories directly under `base` (or, at the root, under src/) with an __init__.py."""
    found = set()
    for f in files:
        parts = PurePosixPath(f).parts
        if parts[-1] != "__init__.py":
            continue
        if base:
            prefix = PurePosixPath(base).parts
            if len(parts) >= len(prefix) + 2 and parts[: len(prefix)] == prefix:
                found.add("/".join(parts[: len(prefix) + 1]))
        elif len(parts) >= 3 and parts[0] == "src":
            found.add(f"src/{parts[1]}")
        elif len(parts) >= 2 and parts[0] != "src":
            found.add(parts[0])
    return sorted(p for p in found if p.split("/")[-1].lower() not in NOT_SHIPPED)


def _tops(names: Sequence[str], where: str) -> list[str]:
    tops = sorted({n.split(".")[0] for n in names if n})
    return [f"{where.strip('/')}/{t}".lstrip("/") for t in tops]


def _locate(name: str, files: Sequence[str]) -> str:
    for base in (name, f"src/{name}"):
        if any(f.startswith(f"{base}/") for f in files):
            return base
    return f"{name}.py" if f"{name}.py" in files else name


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _toml(text: str) -> Mapping[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
