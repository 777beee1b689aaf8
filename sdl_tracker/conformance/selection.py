"""Which entries of a kind may count for commit C: history, supersession, reaffirmations (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sdl_tracker.conformance.evidence import Record, overlaps
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.models import normalise_path


def short(commit: str | None) -> str:
    return commit[:10] if commit else "no commit"


@dataclass(frozen=True)
class Selection:
    """The entries of one kind considered for a requirement."""

    candidates: tuple[Record, ...]
    """Every entry of the kind (naming the requirement, when the rule asks), oldest first."""
    winners: tuple[Record, ...]
    """The newest entry in C's history for each set of covered paths: the ones judged."""
    notes: dict[int, str] = field(default_factory=dict)
    """Why each other candidate was not judged (superseded, outside C's history)."""


class Index:
    """Entries by kind and by sequence number for one evaluation; selections are memoised."""

    def __init__(self, records: Iterable[Record], facts: CommitFacts) -> None:
        self.records = tuple(records)
        self.facts = facts
        self.by_seq = {r.seq: r for r in self.records}
        self.by_kind: dict[str, list[Record]] = {}
        for r in self.records:
            self.by_kind.setdefault(r.statement.predicate.kind, []).append(r)
        self._selections: dict[tuple[str, str | None], Selection] = {}

    def of_kind(self, kind: str) -> tuple[Record, ...]:
        return tuple(self.by_kind.get(kind, ()))

    @staticmethod
    def covers(covers: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({normalise_path(c) for c in covers}))

    def in_history(self, r: Record) -> bool:
        """Whether the entry may count for C at all (C, an ancestor, or not tied to paths)."""
        st = r.statement
        if not st.predicate.covers or st.commit is None or st.commit == self.facts.commit:
            return True
        return st.commit in self.facts.ancestors

    def selection(self, kind: str, named: str | None) -> Selection:
        key = (kind, named)
        if key not in self._selections:
            self._selections[key] = self._select(kind, named)
        return self._selections[key]

    def _select(self, kind: str, named: str | None) -> Selection:
        candidates = tuple(
            r
            for r in self.by_kind.get(kind, ())
            if named is None or named in r.statement.predicate.requirements
        )
        winners: list[tuple[Record, tuple[str, ...]]] = []
        notes: dict[int, str] = {}
        for r in reversed(candidates):
            if not self.in_history(r):
                notes[r.seq] = (
                    f"collected on {short(r.statement.commit)}, which is not in the history of "
                    f"{short(self.facts.commit)}"
                )
                continue
            covers = self.covers(r.statement.predicate.covers)
            newer = next((w for w, wc in winners if overlaps(wc, covers)), None)
            if newer is not None:
                notes[r.seq] = f"superseded by entry {newer.seq}"
                continue
            winners.append((r, covers))
        return Selection(
            candidates=candidates,
            winners=tuple(sorted((w for w, _ in winners), key=lambda r: r.seq)),
            notes=notes,
        )

    def origin(self, r: Record) -> Record | str:
        """The entry a reaffirmation stands for (following chains), or why it stands for none."""
        current, seen = r, {r.seq}
        while True:
            ref = current.statement.predicate.details.get("reaffirms")
            if ref is None:
                return current
            if not isinstance(ref, int) or isinstance(ref, bool):
                return f"reaffirms {ref!r}, which is not an entry number"
            target = self.by_seq.get(ref)
            if target is None or ref in seen or ref >= current.seq:
                return f"reaffirms entry {ref}, which is not an earlier entry of the ledger"
            kind = current.statement.predicate.kind
            if target.statement.predicate.kind != kind:
                return f"reaffirms entry {ref}, which is not {kind} evidence"
            seen.add(ref)
            current = target
