"""Threat models: the native YAML format, importers (Threat Dragon, Threagile, pytm), checks.

`discover()` finds model files in a repository, `read()` loads one whatever its format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.threatmodel.detect import load
from sdl_tracker.formats.threatmodel.model import ThreatModel
from sdl_tracker.formats.threatmodel.source import Source, parse
from sdl_tracker.formats.threatmodel_paths import DEFAULT_PATHS, discover

__all__ = ["DEFAULT_PATHS", "ThreatModel", "discover", "load", "read"]


def read(path: Path, name: str) -> tuple[ThreatModel, bytes]:
    """The model at `path` (called `name` in messages) and the file's bytes. `name` is the
    path relative to the repository, which included files are read from and must stay in."""
    raw = bounded.read(path, "threat_model", name)
    return load(name, raw, includer(_root(path, name))), raw


def includer(root: Path) -> Callable[[str], Source]:
    """Reads a file a model includes: a repository-relative path that resolves (symbolic links
    too) inside `root`."""

    def read_included(name: str) -> Source:
        path = root / name
        try:
            inside = path.resolve().is_relative_to(root.resolve())
        except OSError as e:
            raise InputError(f"{name}: cannot read the included file: {e.strerror or e}") from e
        if not inside:
            raise InputError(f"{name}: the included file resolves outside the repository")
        return parse(name, bounded.read(path, "threat_model", name))

    return read_included


def _root(path: Path, name: str) -> Path:
    """The directory `name` is relative to (the repository root)."""
    depth = len(Path(name).parts)
    if Path(name).is_absolute() or depth == 0 or path.parts[-depth:] != Path(name).parts:
        return path.parent
    return path.parents[depth - 1]
