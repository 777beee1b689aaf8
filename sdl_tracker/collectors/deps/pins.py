"""Declared dependencies of a project and their exact versions (for the dependency audit).

Reads requirements files (pip's format: `-r` includes, continuation lines, per-line options,
environment markers), `pylock.toml` lock files, `[project].dependencies` in pyproject.toml, or
the installed distributions of the running environment. A dependency whose version is not
pinned exactly (`==`/`===`) has `version=None`: it cannot be audited without resolution.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.models import JSON

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s+|=)(\S+)$")
_OPTION_TAIL = re.compile(r"\s+--?[A-Za-z].*$")
_LOCATION = re.compile(r"^(?:\.{0,2}/|[a-z][a-z0-9+.-]*://)|\.(?:whl|zip|tar\.gz|tgz)$", re.I)


@dataclass(frozen=True)
class Pin:
    """One declared dependency."""

    name: str
    version: str | None
    """The exact version, or None when the requirement is not pinned to one."""
    spec: str
    """The requirement as written."""
    origin: str
    """Where it was declared, e.g. `requirements.txt:3`."""
    url: bool = False
    """A URL, path or editable requirement (no version to audit)."""


@dataclass(frozen=True)
class Declared:
    """The dependencies a project declares and the files they were read from."""

    pins: tuple[Pin, ...]
    files: tuple[Path, ...]

    @property
    def unpinned(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.pins if p.version is None)

    @property
    def resolvable_offline(self) -> bool:
        """True when no named requirement needs resolution (URL ones are merely skipped)."""
        return all(p.version is not None or p.url for p in self.pins)


def requirements(files: Sequence[Path], root: Path) -> Declared:
    """Parse requirements files (and the files they include with `-r`)."""
    pins: list[Pin] = []
    seen: list[Path] = []
    for path in files:
        _read_requirements(path, root, pins, seen)
    return Declared(tuple(pins), tuple(seen))


def _read_requirements(path: Path, root: Path, pins: list[Pin], seen: list[Path]) -> None:
    if path.resolve() in (s.resolve() for s in seen):
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{_rel(path, root)}: cannot read the requirements file: {e}") from e
    seen.append(path)
    for number, line in _logical_lines(text):
        where = f"{_rel(path, root)}:{number}"
        include = _INCLUDE.match(line)
        if include:
            target = path.parent / include.group(1)
            if not target.is_file():
                raise InputError(f"{where}: included file {include.group(1)} does not exist")
            _read_requirements(target, root, pins, seen)
        elif line.startswith(("-e ", "--editable")):
            name = line.split(maxsplit=1)[-1]
            pins.append(Pin(name, None, line, where, url=True))
        elif not line.startswith("-"):
            pin = _pin(_OPTION_TAIL.sub("", line), where)
            if pin is not None:
                pins.append(pin)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with comments removed and continuations joined."""
    result: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            result.append((start, joined))
    if pending.strip():
        result.append((start, pending.strip()))
    return result


def _pin(text: str, where: str) -> Pin | None:
    """A Pin for one requirement string; None when its marker excludes this environment."""
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        if _LOCATION.search(text):
            return Pin(text, None, text, where, url=True)
        raise InputError(
            f"{where}: invalid requirement {text!r}: {e}; expected `name==version` (PEP 508)"
        ) from e
    if req.marker is not None and not req.marker.evaluate():
        return None
    if req.url:
        return Pin(req.name, None, text, where, url=True)
    specs = list(req.specifier)
    exact = len(specs) == 1 and specs[0].operator in ("==", "===")
    if exact and not specs[0].version.endswith(".*"):
        return Pin(req.name, specs[0].version, text, where)
    return Pin(req.name, None, text, where)


def lockfiles(root: Path) -> tuple[Path, ...]:
    """`pylock.toml` and `pylock.*.toml` (PEP 751) at the project root."""
    return tuple(sorted(p for p in root.glob("pylock*.toml") if p.is_file()))


def has_project(root: Path) -> bool:
    """A lock file, or a pyproject.toml with a [project] table."""
    path = root / "pyproject.toml"
    return bool(lockfiles(root)) or (path.is_file() and "project" in _toml(path, root))


def pyproject(root: Path) -> Declared:
    """The lock files' packages when there are any, else `[project].dependencies`."""
    locks = lockfiles(root)
    if locks:
        return Declared(tuple(p for lock in locks for p in _lock_pins(lock, root)), locks)
    path = root / "pyproject.toml"
    project = _toml(path, root).get("project")
    if not isinstance(project, dict):
        raise InputError("pyproject.toml: no [project] table; declare `dependencies` there")
    if "dependencies" in project.get("dynamic", []):
        dynamic = Pin("[project] dynamic dependencies", None, "dynamic", "pyproject.toml")
        return Declared((dynamic,), (path,))
    deps = project.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise InputError("pyproject.toml: project.dependencies: expected a list of strings")
    found = (_pin(d, f"pyproject.toml: project.dependencies[{i}]") for i, d in enumerate(deps))
    return Declared(tuple(p for p in found if p is not None), (path,))


def _lock_pins(path: Path, root: Path) -> list[Pin]:
    packages = _toml(path, root).get("packages")
    where = _rel(path, root)
    if not isinstance(packages, list):
        raise InputError(f"{where}: packages: expected an array of tables (PEP 751)")
    pins = []
    for i, package in enumerate(packages):
        place = f"{where}: packages[{i}]"
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            raise InputError(f"{place}: expected a table with a `name` string")
        version = package.get("version")
        if version is not None and not isinstance(version, str):
            raise InputError(f"{place}.version: expected a string, got {version!r}")
        spec = f"{package['name']}=={version}" if version else package["name"]
        pins.append(Pin(package["name"], version, spec, place))
    return pins


def environment(paths: Sequence[Path]) -> Declared:
    """The distributions installed in these site-packages directories (first one wins)."""
    pins: dict[str, Pin] = {}
    for dist in metadata.distributions(path=[str(p) for p in paths]):
        name = dist.metadata["Name"]
        if name and canonicalize_name(name) not in pins:
            pins[canonicalize_name(name)] = Pin(name, dist.version, name, "environment")
    return Declared(tuple(sorted(pins.values(), key=lambda p: p.name.lower())), ())


def locations(declared: Declared, root: Path) -> dict[str, dict[str, JSON]]:
    """Where each declared package is written, by canonical name: `{"path", "line"}` (1-based).

    Requirements files give the line directly; for pyproject.toml and lock files the line is
    found in the text (the quoted requirement, the `[[packages]]` table's `name`); a package
    declared in several places keeps its first. Installed environments have no such place.
    """
    texts: dict[str, list[str]] = {}
    found: dict[str, dict[str, JSON]] = {}
    for pin in declared.pins:
        key = canonicalize_name(pin.name) if not pin.url else pin.name
        if key in found or pin.origin == "environment":
            continue
        place = _place(pin, root, texts)
        if place is not None:
            found[key] = {"path": place[0], "line": place[1]}
    return found


def _place(pin: Pin, root: Path, texts: dict[str, list[str]]) -> tuple[str, int] | None:
    line = re.fullmatch(r"(.+):(\d+)", pin.origin)
    if line:
        return line.group(1), int(line.group(2))
    path, _, where = pin.origin.partition(": ")
    if path not in texts:
        try:
            texts[path] = (root / path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            texts[path] = []
    lines = texts[path]
    table = re.fullmatch(r"packages\[(\d+)\]", where)
    if table:
        headers = [n for n, text in enumerate(lines, 1) if text.strip() == "[[packages]]"]
        index = int(table.group(1))
        if index < len(headers):
            return path, headers[index]
    for wanted in (f'"{pin.spec}"', f"'{pin.spec}'", pin.name):
        for n, text in enumerate(lines, 1):
            if wanted in text:
                return path, n
    return path, 1


def digest(declared: Declared) -> str:
    """sha256 over the pins (for environments, which have no files)."""
    text = "\n".join(f"{p.name}=={p.version}" for p in declared.pins)
    return hashlib.sha256(text.encode()).hexdigest()


def _toml(path: Path, root: Path) -> dict[str, Any]:
    try:
        return bounded.toml_loads(path.read_text(encoding="utf-8"), _rel(path, root))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{_rel(path, root)}: cannot read: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{_rel(path, root)}: invalid TOML: {e}") from e


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
