"""Where threat models are looked for, and finding them: kept apart from the parsers so that a
hook can learn that a repository has no threat model without importing YAML and the importers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
