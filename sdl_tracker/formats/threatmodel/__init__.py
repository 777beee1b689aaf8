"""Threat models: the native YAML format, importers (Threat Dragon, Threagile, pytm), checks.

`discover()` finds model files in a repository, `read()` loads one whatever its format.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sdl_tracker.formats import bounded
from sdl_tracker.formats.threatmodel.detect import load
from sdl_tracker.formats.threatmodel.model import ThreatModel

DEFAULT_PATHS = (
    "threat-model.yaml",
    "threat-model.yml",
    "threat-model.json",
    "docs/threat-model.yaml",
    "docs/threat-model.yml",
    "docs/threat-model.json",
    "threagile.yaml",
    "*.threagile.yaml",
    "*.threagile.yml",
    "docs/*.threagile.yaml",
    "*.threatdragon.json",
    "docs/*.threatdragon.json",
    "*.pytm.json",
    "docs/*.pytm.json",
)

__all__ = ["DEFAULT_PATHS", "ThreatModel", "discover", "load", "read"]


def discover(root: Path, patterns: Sequence[str]) -> tuple[list[str], list[str]]:
    """(model paths found, patterns that matched no file), paths relative to `root`, sorted."""
    found: dict[str, None] = {}
    unmatched = []
    for pattern in patterns:
        matches = sorted(p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file())
        if not matches:
            unmatched.append(pattern)
        found.update(dict.fromkeys(matches))
    return list(found), unmatched


def read(path: Path, name: str) -> tuple[ThreatModel, bytes]:
    """The model at `path` (called `name` in messages) and the file's bytes."""
    raw = bounded.read(path, "threat_model", name)
    return load(name, raw), raw
