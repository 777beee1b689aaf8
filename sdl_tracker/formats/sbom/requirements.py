"""Components from pinned requirements files (`name==version`, `--hash=`, pip-compile `# via`).

Only exact pins become components: anything else (a range, a URL, an editable install) is a
problem that makes the SBOM evidence incomplete, naming the requirement.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sdl_tracker.errors import InputError
from sdl_tracker.formats.sbom.model import Package, Resolution

_HASH = re.compile(r"\s--hash(?:=|\s+)(\S+)")
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_INCLUDE = ("-r", "--requirement")
_CONSTRAINT = ("-c", "--constraint")
_EDITABLE = ("-e", "--editable")
_IGNORED = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--require-hashes",
    "--use-feature",
)


@dataclass
class _State:
    """What parsing the files has found so far (local to one `resolve` call)."""

    packages: dict[tuple[str, str], Package] = field(default_factory=dict)
    via: dict[str, set[str]] = field(default_factory=dict)
    unannotated: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def resolve(root: Path, files: Sequence[str]) -> Resolution:
    """The pinned components of `files` (relative to `root`), following `-r` includes."""
    state = _State()
    for name in files:
        _read(root, root / name, state, origin=f"[collectors.sbom] requirements ({name!r})")
    names = {key for key, _ in state.packages}
    annotated = bool(names) and not state.unannotated
    direct = sorted(key for key in names if not state.via.get(key) or state.via[key] - names)
    packages = []
    for (key, _), package in sorted(state.packages.items()):
        children = sorted(c for c, parents in state.via.items() if key in parents and c != key)
        packages.append(
            Package(
                name=package.name,
                version=package.version,
                hashes=package.hashes,
                requires=tuple(children) if annotated else None,
            )
        )
    return Resolution(
        packages=tuple(packages),
        direct=tuple(direct),
        problems=tuple(state.problems),
        sources=tuple(state.sources),
    )


def _read(root: Path, path: Path, state: _State, origin: str) -> None:
    rel = Path(os.path.relpath(path, root)).as_posix()
    if rel in state.sources:
        return
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InputError(
            f"{rel}: no such requirements file (named by {origin}); create it or fix "
            "`requirements = [...]` in [collectors.sbom]"
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{rel}: cannot read requirements file: {e}") from e
    state.sources.append(rel)
    current: str | None = None
    in_via = False
    for number, line in _logical_lines(text):
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            if current is None or not comment:
                continue
            if comment == "via":  # pip-compile: one parent per following comment line
                in_via = True
                continue
            if comment.startswith("via "):
                in_via, parent = False, comment[4:].strip()
            elif in_via:
                parent = comment
            else:
                continue
            state.via.setdefault(current, set()).add(_parent_key(parent))
            state.unannotated.discard(current)
            continue
        in_via = False
        current = _line(root, path, rel, number, line, state)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with `\\` continuations joined and inline comments cut."""
    result: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending:
            start = number
        if stripped.startswith("#") and not pending:
            result.append((number, stripped))
            continue
        stripped = re.sub(r"(^|\s)#.*$", "", stripped).strip()
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = (pending + stripped).strip()
        pending = ""
        if line:
            result.append((start, line))
    if pending.strip():
        result.append((start, pending.strip()))
    return result


def _parent_key(parent: str) -> str:
    """`-r requirements.in`, `myproduct (pyproject.toml)` or a package name, as a key."""
    return parent if parent.startswith("-") else canonicalize_name(parent.split()[0])


def _line(root: Path, path: Path, rel: str, number: int, line: str, state: _State) -> str | None:
    """Handle one logical line; return the canonical name of a pinned requirement."""
    where = f"{rel}:{number}"
    if line.startswith("-"):
        option, value = _option(line)
        if option in _INCLUDE:
            _read(root, path.parent / value, state, origin=where)
        elif option in _EDITABLE:
            state.problems.append(f"{value} ({where}) is an editable install, not a pinned version")
        elif option not in _CONSTRAINT and option not in _IGNORED:
            raise InputError(
                f"{where}: unknown option {option!r}; expected a pinned requirement "
                "(name==version) or a pip option such as -r FILE"
            )
        return None
    hashes = tuple(_hash(h, where) for h in _HASH.findall(" " + line))
    spec = _HASH.sub("", " " + line).strip()
    try:
        req = Requirement(spec)
    except InvalidRequirement as e:
        if "/" in spec or spec.startswith(".") or ":" in spec.split(";")[0]:
            state.problems.append(f"{spec} ({where}) is a path or URL, not a pinned version")
            return None
        raise InputError(f"{where}: expected a requirement such as `name==1.2.3`: {e}") from e
    pins = list(req.specifier)
    if req.url or len(pins) != 1 or pins[0].operator not in ("==", "===") or "*" in pins[0].version:
        state.problems.append(f"{req.name} ({where}) is not pinned: use {req.name}==VERSION")
        return None
    key = canonicalize_name(req.name)
    old = state.packages.get((key, pins[0].version))
    merged = tuple(sorted({*hashes, *(old.hashes if old else ())}))
    state.packages[(key, pins[0].version)] = Package(req.name, pins[0].version, hashes=merged)
    if key not in state.via:
        state.unannotated.add(key)
    return key


def _option(line: str) -> tuple[str, str]:
    if line.startswith("--"):
        option, _, value = line.replace("=", " ", 1).partition(" ")
    else:
        option, value = line[:2], line[2:]
    return option, value.strip()


def _hash(value: str, where: str) -> str:
    alg, _, digest = value.partition(":")
    if _HASH_LENGTHS.get(alg) != len(digest) or not re.fullmatch(r"[0-9a-fA-F]+", digest):
        raise InputError(
            f"{where}: --hash={value}: expected sha256:, sha384: or sha512: and the hex digest"
        )
    return f"{alg}:{digest.lower()}"
