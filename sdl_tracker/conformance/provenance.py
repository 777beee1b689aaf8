"""Provenance: how each entry entered the ledger, from its path in, never from a user (pure).

The classes (docs/concepts/provenance.md):
- *verified*: a collector ran the tool or read git objects here;
- *ingested*: a collector parsed a report made elsewhere (`collect --from-report`);
- *attested*: a person's statement (`sdl-tracker record`, a waiver request);
- *signed*: an attestation whose signature verifies against the roster.

The stored `predicate.provenance` is what the appending code path stated. It is trusted only
where no person chose it: an entry from `record` or `waive` is *attested* whatever its field says
(a hand-made entry cannot promote itself), and *signed* is never read from the field — only a
signature that verifies (`signed`) makes it so. Entries from before the field existed are
classified by their collector.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.models import Provenance

#: Collectors through which a person's statement enters the ledger.
PERSON_COLLECTORS = frozenset({"record", "waive", "approve"})
#: Collectors that are sdl-tracker itself deciding or observing, never a person's statement.
MACHINE_COLLECTORS = frozenset({"gate", "hooks"})

#: Every class, strongest first (only for display order; the classes are not a ranking).
ORDER = (Provenance.SIGNED, Provenance.VERIFIED, Provenance.INGESTED, Provenance.ATTESTED)
#: Classes a tool produces.
TOOL = frozenset({Provenance.VERIFIED, Provenance.INGESTED})
#: Classes a person produces.
PERSON = frozenset({Provenance.ATTESTED, Provenance.SIGNED})

MARK = {
    Provenance.VERIFIED: "verified",
    Provenance.INGESTED: "ingested",
    Provenance.ATTESTED: "attested",
    Provenance.SIGNED: "signed",
}


def classify(record: Record, signed: Collection[int] = ()) -> Provenance:
    """The provenance class of one entry; `signed` holds the seqs whose signatures verified."""
    p = record.statement.predicate
    if p.collector in PERSON_COLLECTORS:
        return Provenance.SIGNED if record.seq in signed else Provenance.ATTESTED
    if p.collector in MACHINE_COLLECTORS:
        return Provenance.VERIFIED
    if p.provenance is Provenance.INGESTED:
        return Provenance.INGESTED
    if p.provenance in (Provenance.ATTESTED, Provenance.SIGNED):
        # A collector never states these; an entry that does was not made by one.
        return Provenance.ATTESTED
    return Provenance.VERIFIED


def counts(records: Iterable[Record], signed: Collection[int] = ()) -> dict[Provenance, int]:
    """How many of `records` fall in each class (every class present, zero or more)."""
    found = dict.fromkeys(ORDER, 0)
    for r in records:
        found[classify(r, signed)] += 1
    return found


def accepted_text(classes: Collection[Provenance]) -> str:
    """`signed`, `verified or ingested`: the classes in display order, in words."""
    names = [c.value for c in ORDER if c in classes]
    return " or ".join(names)
