"""Checkpoint coverage: which entries a CI key vouches it made, and which tool evidence is
therefore not counted (pure; docs/concepts/checkpoints.md).

A good checkpoint at N+1 signs the head N and names the first entry F of the signer's own
batch: it vouches that F..N came from a run holding the CI key. Entries appended between two
checkpoints came from someone without the key (a developer's `collect`, a hand-made entry
pushed to the ledger branch): they are *uncovered*. When the roster at the evaluated commit
names a ci key (checkpoints are in force), uncovered tool evidence — verified or ingested, gate
verdicts included — is not counted, and every such entry is listed. A person's statement is
judged as it always is: signed by its own signature, or attested. The entries the evaluating
command appended itself in the same run (`own`: a `ci` run without the key) are counted, marked
as not covered.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sdl_tracker.conformance import provenance
from sdl_tracker.conformance.checkpoints import KIND, Checked, Report
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.models import JSON

#: What to do about evidence that is not counted.
ACTION = "run `sdl-tracker ci` with the CI signing key (SDL_TRACKER_SIGNING_KEY): it collects again"


@dataclass(frozen=True)
class Span:
    """The entries one good checkpoint vouches that its signer appended."""

    first: int
    last: int
    checkpoint: int
    """The checkpoint entry's own seq (last + 1)."""


@dataclass(frozen=True)
class Uncounted:
    """One uncovered entry of tool evidence that the evaluation leaves out."""

    seq: int
    kind: str
    collector: str
    after: int | None
    """The newest good checkpoint before it (None: no good checkpoint precedes it)."""
    requirements: tuple[str, ...] = ()
    """The requirements whose rules name its kind."""

    def text(self) -> str:
        where = f"after checkpoint {self.after}" if self.after else "with no checkpoint before it"
        return (
            f"entry {self.seq} {self.kind} ({self.collector}): not counted, appended without the "
            f"CI key {where}"
        )

    def to_json(self) -> dict[str, JSON]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "collector": self.collector,
            "after_checkpoint": self.after,
            "requirements": list(self.requirements),
        }


@dataclass(frozen=True)
class Coverage:
    """How far the checkpoints of a ledger reach, and what the evaluation leaves out for it."""

    entries: int
    spans: tuple[Span, ...] = ()
    newest: int | None = None
    """The newest good checkpoint entry."""
    signer: str | None = None
    """Who signed it (the roster identity; `(vouched …)` when a later one vouches)."""
    not_counted: tuple[Uncounted, ...] = ()
    own: tuple[int, ...] = ()
    """Uncovered entries counted because this very run appended them (no key in this run)."""
    bad: tuple[int, ...] = ()
    """Checkpoint entries that are bad (they cover nothing)."""

    def covers(self, seq: int) -> bool:
        """Whether a good checkpoint's batch (or the checkpoint itself) holds entry `seq`."""
        at = bisect.bisect_right(self._firsts, seq) - 1
        return at >= 0 and seq <= self.spans[at].checkpoint

    @functools.cached_property
    def _firsts(self) -> list[int]:
        return [s.first for s in self.spans]

    @property
    def uncovered(self) -> int:
        """Entries no good checkpoint vouches for (own, not counted, and people's alike)."""
        inside = sum(s.checkpoint - s.first + 1 for s in self.spans)
        return self.entries - inside

    def lines(self) -> list[str]:
        """What `status`, `explain` and `gate` print."""
        if self.newest is None:
            head = f"checkpoints: no good checkpoint; none of the {self.entries} entries is covered"
        else:
            head = (
                f"checkpoints: newest good checkpoint entry {self.newest} ({self.signer}); "
                f"{self.uncovered} of {self.entries} entries not covered"
            )
        lines = [head]
        lines += [f"- checkpoint entry {seq} is bad: it covers nothing" for seq in self.bad]
        if self.own:
            which = "entry" if len(self.own) == 1 else "entries"
            lines.append(
                f"- {which} {_ranges(self.own)}: appended by this run without the CI key — "
                "counted here, not covered (a run with the key collects them again)"
            )
        lines += [f"- {u.text()}" + _for(u) for u in self.not_counted]
        if self.not_counted:
            lines.append(f"  next: {ACTION}")
        return lines

    def to_json(self) -> dict[str, JSON]:
        return {
            "entries": self.entries,
            "newest_checkpoint": self.newest,
            "signer": self.signer,
            "covered": [
                {"first": s.first, "last": s.last, "checkpoint": s.checkpoint} for s in self.spans
            ],
            "uncovered": self.uncovered,
            "bad_checkpoints": list(self.bad),
            "own_uncovered": list(self.own),
            "not_counted": [u.to_json() for u in self.not_counted],
            "action": ACTION if self.not_counted else None,
        }


def spans(report: Report) -> tuple[Span, ...]:
    """The span each checkpoint vouches for: a good one's, and a retired key's that a later
    good checkpoint accepted (its signer checked the ledger before it signed). A checkpoint
    that names no batch (signed before checkpoints did) vouches for the entry it signs alone:
    its batch cannot be told from the ledger, whose fields anyone can copy."""
    kept = {c.seq for c in report.superseded}
    return tuple(
        _span(c) for c in report.checked if (c.good or c.seq in kept) and c.covers is not None
    )


def measure(
    report: Report,
    recs: Sequence[Record],
    kinds: dict[str, tuple[str, ...]],
    own: Iterable[int] = (),
) -> tuple[Coverage, tuple[Record, ...]]:
    """The coverage of a ledger whose checkpoints `report` judged, and the records an
    evaluation counts: every record but uncovered tool evidence not in `own`. `kinds` maps an
    evidence kind to the requirements that use it (for the listing)."""
    found = spans(report)
    mine = frozenset(own)
    last = report.last_good
    coverage = Coverage(
        entries=report.entries,
        spans=found,
        newest=last.seq if last is not None else None,
        signer=last.signer if last is not None else None,
        bad=tuple(c.seq for c in report.bad),
    )
    marks = sorted(s.checkpoint for s in found)
    counted: list[Record] = []
    left: list[Uncounted] = []
    own_seen: list[int] = []
    for r in recs:
        if coverage.covers(r.seq) or not _tool_evidence(r):
            counted.append(r)
        elif r.seq in mine:
            counted.append(r)
            own_seen.append(r.seq)
        else:
            p = r.statement.predicate
            at = bisect.bisect_left(marks, r.seq) - 1
            after = marks[at] if at >= 0 else None
            left.append(Uncounted(r.seq, p.kind, p.collector, after, kinds.get(p.kind, ())))
    coverage = Coverage(
        entries=coverage.entries,
        spans=coverage.spans,
        newest=coverage.newest,
        signer=coverage.signer,
        bad=coverage.bad,
        not_counted=tuple(left),
        own=tuple(own_seen),
    )
    return coverage, tuple(counted)


def _tool_evidence(record: Record) -> bool:
    """Evidence whose class is verified or ingested (gate verdicts too); checkpoints are
    judged on their own signature, people's statements by theirs."""
    if record.statement.predicate.kind == KIND:
        return False
    return provenance.classify(record) in provenance.TOOL


def _span(c: Checked) -> Span:
    assert c.covers is not None
    first = c.first if c.first is not None else c.covers.seq
    return Span(first=first, last=c.covers.seq, checkpoint=c.seq)


def _ranges(seqs: Sequence[int]) -> str:
    """`3-7, 9`: consecutive runs folded."""
    parts: list[str] = []
    start = prev = seqs[0]
    for s in seqs[1:]:
        if s != prev + 1:
            parts.append(f"{start}-{prev}" if start != prev else str(start))
            start = s
        prev = s
    parts.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(parts)


def _for(u: Uncounted) -> str:
    return f" [{', '.join(u.requirements)}]" if u.requirements else ""
