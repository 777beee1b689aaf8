"""The requirement catalogue (package data), loaded into frozen records."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sdl_tracker.errors import CatalogError
from sdl_tracker.models import JSON

DEFAULT = "iec62443-4-1:2018"
_FILES = {"iec62443-4-1:2018": "iec62443-4-1-2018.yaml", "cra:2024-2847": "cra-2024-2847.yaml"}
FORMS = ("automated", "document", "attestation")
"""How an item can be shown: records a tool checks, a document it finds, a person's statement."""


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
    supported_by: tuple[str, ...] = ()
    """Requirements of the vocabulary's catalogue (IEC 62443-4-1) whose evidence supports it."""
    form: str | None = None
    """automated | document | attestation (see `FORMS`); None where the catalogue does not say."""
    product_assessment: tuple[str, ...] = ()
    """Where a product assessment would show it: ids of the catalogue's `product_assessment`
    foundational requirements (a hint, not a mapping)."""
    product_assessment_note: str | None = None
    """What the hint cannot say (e.g. that no foundational requirement addresses it directly)."""


@dataclass(frozen=True)
class DocumentationItem:
    """One part of the technical documentation a framework asks for (CRA Annex VII)."""

    id: str
    title: str
    evidence: tuple[str, ...]
    """Evidence kinds whose ledger entries make up this part."""
    named: str | None = None
    """Only entries naming this requirement count (e.g. the declaration of conformity)."""


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
    vocabulary: str | None = None
    """The catalogue whose evidence kinds this one shares (and whose ids `supported_by` names)."""
    documentation: tuple[DocumentationItem, ...] = ()
    """The technical documentation the export indexes (empty: the framework asks for none)."""
    documents: dict[str, DocumentKind] = field(default_factory=dict)
    """Per document kind: required sections and review cadence."""
    assessor: dict[str, str] = field(default_factory=dict)
    """Per requirement: what an assessor will still ask for when the tool shows it satisfied."""
    product_assessment: ProductAssessment | None = None
    """The product (component) standard whose foundational requirements the items hint at."""

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

    def hints(self, rid: str) -> Hints | None:
        """Where a product assessment would show requirement `rid`, or None when nowhere said."""
        r = self.requirement(rid)
        pa = self.product_assessment
        if pa is None or not r.product_assessment:
            return None
        return Hints(
            standard=pa.standard,
            requirements=tuple((fr, pa.requirements[fr]) for fr in r.product_assessment),
            note=r.product_assessment_note,
        )

    def notes(self, rid: str) -> dict[str, JSON]:
        """What the catalogue says beyond the verdict: the assessor's remaining question and the
        product-assessment hint, each only when the catalogue has one (JSON)."""
        hints = self.hints(rid)
        return {
            **({"assessor_will_ask": self.assessor[rid]} if rid in self.assessor else {}),
            **({"product_assessment": hints.to_json()} if hints else {}),
        }


@dataclass(frozen=True)
class ProductAssessment:
    """A product standard's top-level requirements, by id and title (IEC 62443-4-2's FRs)."""

    standard: str
    requirements: dict[str, str]
    """Id -> title, e.g. "FR 4" -> "Data confidentiality"."""


@dataclass(frozen=True)
class Hints:
    """One item's product-assessment hint: our pointer, not a mapping from either text."""

    standard: str
    requirements: tuple[tuple[str, str], ...]
    """(id, title) pairs."""
    note: str | None = None

    def line(self) -> str:
        frs = "; ".join(f"{i} {t}" for i, t in self.requirements)
        return f"{self.standard} (hint): {frs}" + (f" — {self.note}" if self.note else "")

    def to_json(self) -> dict[str, JSON]:
        return {
            "standard": self.standard,
            "requirements": [{"id": i, "title": t} for i, t in self.requirements],
            "note": self.note,
        }


@cache
def shipped() -> tuple[str, ...]:
    """The ids of the shipped catalogues, the default first."""
    return tuple(_FILES)


@cache
def load(catalog_id: str = DEFAULT) -> Catalog:
    """Load a shipped catalogue by id, e.g. `iec62443-4-1:2018`: parsed once per process (the
    catalogues are package data, and a command asks for them many times)."""
    if catalog_id not in _FILES:
        raise CatalogError(f"unknown catalogue {catalog_id!r} (known: {', '.join(_FILES)})")
    path = resources.files("sdl_tracker.policy") / "catalogs" / _FILES[catalog_id]
    text = path.read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    base = None
    if isinstance(data, dict) and "vocabulary" in data:
        if data["vocabulary"] == catalog_id or data["vocabulary"] not in _FILES:
            raise CatalogError(
                f"catalogue {catalog_id}: vocabulary {data['vocabulary']!r} is not another "
                f"shipped catalogue (known: {', '.join(_FILES)})"
            )
        base = load(data["vocabulary"])
    return _from_dict(data, base)


def owner(rid: str, preferred: str = DEFAULT) -> Catalog:
    """The shipped catalogue that defines requirement `rid`, `preferred` first."""
    for cid in (preferred, *(c for c in _FILES if c != preferred)):
        cat = load(cid)
        if rid in cat.ids():
            return cat
    ids = [i for cid in _FILES for i in load(cid).ids()]
    close = difflib.get_close_matches(rid, ids, n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise CatalogError(
        f"unknown requirement {rid!r} in {', '.join(_FILES)}{hint} "
        "(`sdl-tracker catalog --catalog ID` lists the ids)"
    )


def _from_dict(data: Any, base: Catalog | None = None) -> Catalog:
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
                supported_by=tuple(str(s) for s in r.get("supported_by", ())),
                form=str(r["form"]) if "form" in r else None,
                product_assessment=tuple(
                    str(f) for f in (r.get("product_assessment") or {}).get("fr", ())
                ),
                product_assessment_note=_note(r.get("product_assessment")),
            )
            for r in data["requirements"]
        )
        kinds = dict(base.evidence_kinds) if base else {}
        kinds.update({str(k): str(v) for k, v in data["evidence_kinds"].items()})
        attestable = frozenset(str(k) for k in data.get("attestable", ()))
        produced_by = dict(base.produced_by) if base else {}
        produced_by.update({str(k): str(v) for k, v in data.get("produced_by", {}).items()})
        unknown = sorted((attestable | set(produced_by)) - set(kinds) - {"document:*"})
        if unknown:
            raise CatalogError(f"catalogue names unknown evidence kinds: {', '.join(unknown)}")
        _check_items(requirements, kinds, base)
        documentation = tuple(
            DocumentationItem(
                id=str(d["id"]),
                title=str(d["title"]),
                evidence=tuple(str(k) for k in d["evidence"]),
                named=str(d["named"]) if d.get("named") else None,
            )
            for d in data.get("documentation", ())
        )
        ids = {r.id for r in requirements}
        for d in documentation:
            unknown = sorted(set(d.evidence) - set(kinds))
            if unknown or (d.named is not None and d.named not in ids):
                raise CatalogError(
                    f"documentation item {d.id}: unknown evidence kinds or requirement "
                    f"({', '.join(unknown) or d.named})"
                )
        own = {str(k): _document(str(k), v) for k, v in data.get("documents", {}).items()}
        unknown = sorted(set(own) - set(kinds))
        if unknown:
            raise CatalogError(f"catalogue describes unknown document kinds: {', '.join(unknown)}")
        ids = {r.id for r in requirements}
        for kind, doc in own.items():
            strays = sorted({r for s in doc.sections for r in s.requirements} - ids)
            if strays:
                raise CatalogError(f"catalogue: {kind} sections name unknown {', '.join(strays)}")
        # The vocabulary's document kinds (their cadence) hold unless described here; their
        # sections name the vocabulary's requirements, so they never count for this catalogue's.
        documents = {**(base.documents if base else {}), **own}
        return Catalog(
            id=data["catalog"],
            title=data["title"],
            practices=practices,
            requirements=requirements,
            evidence_kinds=kinds,
            attestable=attestable | (base.attestable if base else frozenset()),
            produced_by=produced_by,
            vocabulary=base.id if base else None,
            documentation=documentation,
            documents=documents,
            assessor=_assessor(data.get("assessor", {}), ids),
            product_assessment=_product_assessment(data.get("product_assessment"), requirements),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CatalogError(f"catalogue data is malformed: {e!r}") from e


def _check_items(
    requirements: tuple[Requirement, ...], kinds: dict[str, str], base: Catalog | None
) -> None:
    """Every item's evidence kinds, form and `supported_by` ids name something that exists."""
    supported = set(base.ids()) if base else set()
    for r in requirements:
        unknown = sorted(set(r.evidence) - set(kinds))
        if unknown:
            raise CatalogError(f"{r.id}: unknown evidence kinds {', '.join(unknown)}")
        if r.form is not None and r.form not in FORMS:
            raise CatalogError(f"{r.id}: form {r.form!r} is not one of {', '.join(FORMS)}")
        strangers = sorted(set(r.supported_by) - supported)
        if strangers:
            raise CatalogError(
                f"{r.id}: supported_by names {', '.join(strangers)}, which the vocabulary's "
                "catalogue does not define"
            )


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


def _note(data: Any) -> str | None:
    note = (data or {}).get("note")
    return " ".join(str(note).split()) if note else None


def _product_assessment(
    data: Any, requirements: tuple[Requirement, ...]
) -> ProductAssessment | None:
    """The product standard's requirements; every item's hint must name them."""
    pa = None
    if data is not None:
        named = {str(k): str(v) for k, v in data["requirements"].items()}
        if not named:
            raise CatalogError("catalogue: `product_assessment` lists no requirements")
        pa = ProductAssessment(standard=str(data["standard"]), requirements=named)
    for r in requirements:
        if not r.product_assessment and r.product_assessment_note is None:
            continue
        if pa is None:
            raise CatalogError(
                f"{r.id}: product_assessment hint, but the catalogue names no standard"
            )
        strays = [f for f in r.product_assessment if f not in pa.requirements]
        if strays or not r.product_assessment:
            raise CatalogError(
                f"{r.id}: product_assessment names {', '.join(strays) or 'no requirement'} "
                f"(known: {', '.join(pa.requirements)})"
            )
    return pa


def _assessor(data: Any, ids: set[str]) -> dict[str, str]:
    found = {str(k): " ".join(str(v).split()) for k, v in data.items()}
    strays = sorted(set(found) - ids)
    if strays:
        raise CatalogError(f"catalogue: `assessor` names unknown {', '.join(strays)}")
    return found
