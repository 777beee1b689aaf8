"""Where threat models are looked for, and finding them: kept apart from the parsers so that a
hook can learn that a repository has no threat model without importing YAML and the importers
(and, for the default places, without importing pathlib: `default_found`).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
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


def default_found(root: str) -> bool:
    """Whether `discover(Path(root), DEFAULT_PATHS)` finds a model, with `os` alone (the same
    matching as pathlib's glob: one directory level, `fnmatch` case rules, files only)."""
    import fnmatch

    for pattern in DEFAULT_PATHS:
        folder, _, name = pattern.rpartition("/")
        where = os.path.join(root, folder) if folder else root
        if not any(c in name for c in "*?["):
            if os.path.isfile(os.path.join(where, name)):
                return True
            continue
        try:
            names = os.listdir(where)
        except OSError:  # no such folder, or not one
            continue
        for found in names:
            if fnmatch.fnmatch(found, name) and os.path.isfile(os.path.join(where, found)):
                return True
    return False
