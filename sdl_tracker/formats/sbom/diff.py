"""Compare the components of two SBOMs: added, removed, changed version (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sdl_tracker.formats.sbom.document import Inventory, Item


@dataclass(frozen=True)
class Change:
    """A component present in both SBOMs at different versions."""

    key: str
    name: str
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class SbomDiff:
    added: tuple[Item, ...]
    removed: tuple[Item, ...]
    changed: tuple[Change, ...]
    unchanged: int


def diff(old: Inventory, new: Inventory) -> SbomDiff:
    """Components keyed by purl without version (else name), compared between two SBOMs."""
    before, after = _group(old.components), _group(new.components)
    changed = []
    unchanged = 0
    for key in sorted(before.keys() & after.keys()):
        old_versions, new_versions = _versions(before[key]), _versions(after[key])
        if old_versions == new_versions:
            unchanged += 1
        else:
            changed.append(Change(key, after[key][0].name, old_versions, new_versions))
    return SbomDiff(
        added=tuple(i for k in sorted(after.keys() - before.keys()) for i in after[k]),
        removed=tuple(i for k in sorted(before.keys() - after.keys()) for i in before[k]),
        changed=tuple(changed),
        unchanged=unchanged,
    )


def _group(items: Iterable[Item]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.key, []).append(item)
    return groups


def _versions(items: Iterable[Item]) -> tuple[str, ...]:
    return tuple(sorted({i.version or "(no version)" for i in items}))
