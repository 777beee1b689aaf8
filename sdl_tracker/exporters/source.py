"""What the evidence-package views are made from: the verdicts and the ledger slice behind them.

`sdl_tracker.release.gather()` builds a `Source` from the ledger and git; the views (`html`,
`oscal`, `sarif`, `json`, `traceability`, `package`) only read it. A `Source` holding just a
`Conformance` is enough for the views that need no artifacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.conformance.tailoring import Tailoring
from sdl_tracker.formats.roster import Roster
from sdl_tracker.ledger.chain import Entry
from sdl_tracker.models import Artifact
from sdl_tracker.policy.model import Policy

_STATEMENT = b',"statement":'


@dataclass(frozen=True)
class ReleaseInfo:
    """The release as git records it (every string here came from the repository)."""

    tag: str | None
    commit: str
    committed_at: datetime | None = None
    author: str = ""
    message: str = ""
    """The full commit message."""
    tagger: str = ""
    tag_message: str = ""
    """An annotated tag's message (empty for a lightweight tag)."""


@dataclass(frozen=True)
class GateInfo:
    """The release's gate verdict entry, and whether re-evaluating reproduced it."""

    seq: int
    hash: str
    passed: bool
    recorded_at: datetime
    recorded_by: str
    differences: tuple[str, ...] = ()
    """`SM-1: the gate recorded satisfied, re-evaluated failing`, one per differing requirement."""


@dataclass(frozen=True)
class Source:
    """The verdicts of one release and the ledger slice (entries 1..N) they were judged from."""

    conformance: Conformance
    policy: Policy | None = None
    entries: tuple[Entry, ...] = ()
    """Entries 1..N, in order: the release's gate verdict entry is the last one, when it has one."""
    records: tuple[Record, ...] = ()
    """The same entries' statements, parsed."""
    objects: Mapping[str, bytes] = field(default_factory=dict)
    """Every artifact the slice's entries reference, verified, by SHA-256."""
    release: ReleaseInfo | None = None
    gate: GateInfo | None = None
    notes: tuple[str, ...] = ()
    """What the auditor should know about how the package was made (no gate verdict, …)."""
    roster: Roster | None = None
    """The roster at the evaluated commit: who held which key and role (`roster.json`)."""
    tailoring: Tailoring | None = None
    """The committed project policy and who approved its tailoring, when it has one."""

    def record(self, seq: int) -> Record | None:
        if 1 <= seq <= len(self.records) and self.records[seq - 1].seq == seq:
            return self.records[seq - 1]
        return next((r for r in self.records if r.seq == seq), None)

    def referenced(self) -> tuple[int, ...]:
        """Entries the verdicts rest on: every evidence reference, waiver and the gate verdict."""
        seqs = {e.seq for r in self.conformance.requirements for e in r.evidence}
        seqs |= {w.seq for w in self.conformance.waivers}
        if self.gate is not None:
            seqs.add(self.gate.seq)
        return tuple(sorted(s for s in seqs if self.record(s) is not None))

    def evidence(self, kind: str) -> tuple[Record, ...]:
        """The entries of `kind` a view shows: those the verdicts counted; else the newest the
        verdicts considered; else the newest of that kind in the slice. "Newest" is per subject:
        per model file for threat models (nine failing models are nine entries), one otherwise."""
        refs = [e for r in self.conformance.requirements for e in r.evidence if e.kind == kind]
        seqs = sorted({e.seq for e in refs if e.counted})
        if not seqs and refs:
            seqs = self._newest(sorted({e.seq for e in refs}))
        if not seqs:
            seqs = self._newest([r.seq for r in self.records if r.statement.predicate.kind == kind])
        return tuple(r for s in seqs if (r := self.record(s)) is not None)

    def _newest(self, seqs: list[int]) -> list[int]:
        """The newest entry of `seqs` per subject (the `model` of threat-model evidence)."""
        newest: dict[str, int] = {}
        for seq in seqs:
            record = self.record(seq)
            if record is not None:
                newest[subject(record)] = seq
        return sorted(newest.values())

    def artifacts(self, record: Record, *suffixes: str) -> tuple[tuple[Artifact, bytes], ...]:
        """The stored artifacts of `record` whose names end with one of `suffixes` (all if none)."""
        found = []
        for a in record.statement.artifacts:
            data = self.objects.get(a.sha256)
            if data is not None and (not suffixes or a.name.lower().endswith(suffixes)):
                found.append((a, data))
        return tuple(found)


def subject(record: Record) -> str:
    """What an entry is about, among entries of its kind: the model file of a threat model."""
    p = record.statement.predicate
    model = p.details.get("model") if p.kind == "threat_model" else None
    return model if isinstance(model, str) else ""


def statement_bytes(entry: Entry) -> bytes:
    """The statement's canonical bytes exactly as stored inside the entry's line."""
    start = entry.raw.index(_STATEMENT) + len(_STATEMENT)
    return entry.raw[start:-1]
