"""The requirement catalogue (package data), loaded into frozen records."""

from __future__ import annotations

from collections.abc import Iterable
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


CADENCES = ("per_release", "annual", "on_change")
"""How often a document must be looked at again (docs/concepts/documents.md)."""


@dataclass(frozen=True)
class Section:
    """A heading a document must have."""

    heading: str
    """What `init --templates` writes."""
    match: tuple[str, ...]
    """Lower-case words, any one of which a heading may contain instead."""
    requirements: tuple[str, ...]
    """The requirements that need it."""
    guidance: str

    def found_in(self, headings: Iterable[str]) -> bool:
        return any(word in h for h in headings for word in self.match)


@dataclass(frozen=True)
class DocumentKind:
    """What a document kind must contain and how often it must be reviewed again."""

    cadence: str
    """per_release | annual | on_change."""
    sections: tuple[Section, ...] = ()


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
    documents: dict[str, DocumentKind] = field(default_factory=dict)
    """Per document kind: required sections and review cadence."""
    assessor: dict[str, str] = field(default_factory=dict)
    """Per requirement: what an assessor will still ask for when the tool shows it satisfied."""

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
        documents = {str(k): _document(str(k), v) for k, v in data.get("documents", {}).items()}
        unknown = sorted(set(documents) - set(kinds))
        if unknown:
            raise CatalogError(f"catalogue describes unknown document kinds: {', '.join(unknown)}")
        ids = {r.id for r in requirements}
        for kind, doc in documents.items():
            strays = sorted({r for s in doc.sections for r in s.requirements} - ids)
            if strays:
                raise CatalogError(f"catalogue: {kind} sections name unknown {', '.join(strays)}")
        return Catalog(
            id=data["catalog"],
            title=data["title"],
            practices=practices,
            requirements=requirements,
            evidence_kinds=kinds,
            attestable=attestable,
            produced_by=produced_by,
            documents=documents,
            assessor=_assessor(data.get("assessor", {}), ids),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise CatalogError(f"catalogue data is malformed: {e!r}") from e


def _document(kind: str, data: Any) -> DocumentKind:
    cadence = str(data["cadence"])
    if cadence not in CADENCES:
        raise CatalogError(
            f"catalogue: {kind} has cadence {cadence!r} (expected one of {', '.join(CADENCES)})"
        )
    sections = tuple(
        Section(
            heading=str(s["heading"]),
            match=tuple(str(w).lower() for w in s.get("match") or [s["heading"]]),
            requirements=tuple(str(r) for r in s["for"]),
            guidance=" ".join(str(s["guidance"]).split()),
        )
        for s in data.get("sections", ())
    )
    return DocumentKind(cadence=cadence, sections=sections)


def _assessor(data: Any, ids: set[str]) -> dict[str, str]:
    found = {str(k): " ".join(str(v).split()) for k, v in data.items()}
    strays = sorted(set(found) - ids)
    if strays:
        raise CatalogError(f"catalogue: `assessor` names unknown {', '.join(strays)}")
    return found
