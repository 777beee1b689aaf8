"""The requirement catalogue (package data), loaded into frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sdl_tracker.errors import CatalogError

DEFAULT = "iec62443-4-1:2018"
_FILES = {"iec62443-4-1:2018": "iec62443-4-1-2018.yaml"}


@dataclass(frozen=True)
class Practice:
    id: str
    number: int
    name: str
    clause: str


@dataclass(frozen=True)
class Requirement:
    id: str
    practice: str
    clause: str
    title: str
    intent: str
    evidence: tuple[str, ...]
    """Evidence kinds that can support it."""
    automation: str
    """auto | partial | manual: how much of the evidence a tool can gather."""


@dataclass(frozen=True)
class Catalog:
    id: str
    title: str
    practices: tuple[Practice, ...]
    requirements: tuple[Requirement, ...]
    evidence_kinds: dict[str, str]
    attestable: frozenset[str] = frozenset()
    """Kinds whose evidence is a person's statement: what `sdl-tracker record` takes."""
    produced_by: dict[str, str] = field(default_factory=dict)
    """For kinds a tool makes: the command that produces it (`document:*` for any document)."""

    def producer(self, kind: str) -> str | None:
        """The command that produces a tool-made kind, or None when no collector makes it."""
        if kind in self.produced_by:
            return self.produced_by[kind]
        if kind.startswith("document:"):
            return self.produced_by.get("document:*")
        return None

    def requirement(self, rid: str) -> Requirement:
        for r in self.requirements:
            if r.id == rid:
                return r
        raise CatalogError(
            f"unknown requirement {rid!r} in {self.id} (run `sdl-tracker catalog` for the list)"
        )

    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.requirements)

    def practice(self, pid: str) -> Practice:
        for p in self.practices:
            if p.id == pid:
                return p
        known = ", ".join(p.id for p in self.practices)
        raise CatalogError(f"unknown practice {pid!r} (known: {known})")

    def in_practice(self, pid: str) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.practice == pid)


@cache
def load(catalog_id: str = DEFAULT) -> Catalog:
    """Load a shipped catalogue by id, e.g. `iec62443-4-1:2018`."""
    if catalog_id not in _FILES:
        raise CatalogError(f"unknown catalogue {catalog_id!r} (known: {', '.join(_FILES)})")
    path = resources.files("sdl_tracker.policy") / "catalogs" / _FILES[catalog_id]
    text = path.read_text(encoding="utf-8")
    return _from_dict(yaml.safe_load(text))


def _from_dict(data: Any) -> Catalog:
    try:
        practices = tuple(
            Practice(id=p["id"], number=int(p["number"]), name=p["name"], clause=str(p["clause"]))
            for p in data["practices"]
        )
        requirements = tuple(
            Requirement(
                id=r["id"],
                practice=r["practice"],
                clause=str(r["clause"]),
                title=r["title"],
                intent=" ".join(str(r["intent"]).split()),
                evidence=tuple(r["evidence"]),
                automation=r["automation"],
            )
            for r in data["requirements"]
        )
        kinds = {str(k): str(v) for k, v in data["evidence_kinds"].items()}
        attestable = frozenset(str(k) for k in data.get("attestable", ()))
        produced_by = {str(k): str(v) for k, v in data.get("produced_by", {}).items()}
        unknown = sorted((attestable | set(produced_by)) - set(kinds) - {"document:*"})
        if unknown:
            raise CatalogError(f"catalogue names unknown evidence kinds: {', '.join(unknown)}")
        return Catalog(
            id=data["catalog"],
            title=data["title"],
            practices=practices,
            requirements=requirements,
            evidence_kinds=kinds,
            attestable=attestable,
            produced_by=produced_by,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise CatalogError(f"catalogue data is malformed: {e!r}") from e
