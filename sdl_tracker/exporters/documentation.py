"""The technical-documentation index (CRA Annex VII): each part → the ledger entries behind it.

Read by the json, oscal and html views when the framework's catalogue lists documentation items
(`documentation:` in `cra-2024-2847.yaml`). Per part, the entries of its evidence kinds that the
verdicts counted, else the newest such entry of the slice (shown, but marked as not counted),
and a gap line when there is none: the index shows where the documentation is, and where it is
not — it never judges whether a document says enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdl_tracker.conformance import verdicts
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.exporters.source import Source
from sdl_tracker.models import JSON, format_time
from sdl_tracker.policy.catalog import DocumentationItem


@dataclass(frozen=True)
class Part:
    """One documentation item and the ledger entries that make it up."""

    item: DocumentationItem
    entries: tuple[Record, ...]
    counted: frozenset[int]
    """Seqs among `entries` that some verdict counted."""

    @property
    def gap(self) -> str:
        if self.entries:
            return ""
        naming = f" naming {self.item.named}" if self.item.named else ""
        return f"no ledger entry of {', '.join(self.item.evidence)}{naming}"

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.item.id,
            "title": self.item.title,
            "evidence_kinds": list(self.item.evidence),
            "named": self.item.named,
            "entries": [
                {
                    "seq": r.seq,
                    "hash": r.hash,
                    "kind": r.statement.predicate.kind,
                    "result": r.statement.predicate.result.status.value,
                    "summary": r.statement.predicate.result.summary,
                    "recorded_at": format_time(r.statement.predicate.recorded_at),
                    "counted": r.seq in self.counted,
                    "flags": list(flags(r)),
                    "artifacts": [
                        {"name": a.name, "sha256": a.sha256} for a in r.statement.artifacts
                    ],
                }
                for r in self.entries
            ],
            "gap": self.gap or None,
        }


def flags(record: Record) -> tuple[str, ...]:
    """What an entry flags for the documentation (`details.flags`: the support period's
    releases without an end date, lines shorter than five years without a justification)."""
    found = record.statement.predicate.details.get("flags")
    return tuple(str(f) for f in found) if isinstance(found, list) else ()


def index(source: Source) -> tuple[Part, ...]:
    """The documentation parts of the source's catalogue (none without a policy or items)."""
    if source.policy is None:
        return ()
    conf = source.conformance
    counted = frozenset(e.seq for r in conf.requirements for e in r.evidence if e.counted)
    return tuple(
        _part(source, item, counted, conf.catalog) for item in source.policy.catalog.documentation
    )


def _part(source: Source, item: DocumentationItem, counted: frozenset[int], catalog: str) -> Part:
    found: list[Record] = []
    for kind in item.evidence:
        pool = [
            r
            for r in source.records
            if r.statement.predicate.kind == kind
            and not verdicts.foreign(r, catalog)
            and (item.named is None or item.named in r.statement.predicate.requirements)
        ]
        used = [r for r in pool if r.seq in counted]
        found += used or pool[-1:]
    entries = tuple(sorted({r.seq: r for r in found}.values(), key=lambda r: r.seq))
    return Part(item=item, entries=entries, counted=counted & {r.seq for r in entries})


def to_json(parts: tuple[Part, ...]) -> JSON:
    return [p.to_json() for p in parts]
