"""Signature entries: a person's DSSE signature over another entry's statement (pure parts).

`record --sign` appends the attestation and its signature; `approve SEQ` appends the approver's
signature over a waiver. A signature entry (kind `signature`) holds the plain DSSE envelope in
`details.envelope` and how it was signed (`ssh`, `ed25519`, `openpgp`) in `details.method`.
The payload is the signed statement's canonical bytes, so the envelope names what it signs by
content, not by a sequence number a writer could change. Which signatures verify, and whose
they are, is decided at the edge (`trust`, which runs the verifiers against the roster of the
evaluated commit) and comes in here as `Checked`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sdl_tracker import __version__
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.ledger.chain import canonical
from sdl_tracker.models import JSON, Predicate, Provenance, Result, ResultStatus, Statement, Tool

KIND = "signature"


@dataclass(frozen=True)
class Signer:
    """Who made a good signature over an entry, as the judge needs to know them."""

    identity: str
    roles: tuple[str, ...]
    authored: bool = False
    """Whether they authored a commit of the release range (the code under test)."""


@dataclass(frozen=True)
class Checked:
    """One signature entry after verification against the roster."""

    seq: int
    target: int | None
    """The seq of the entry whose statement the envelope carries, if any entry matches."""
    signer: str | None
    """The roster person's identity `Name <email>` when the signature verified, else None."""
    emails: tuple[str, ...] = ()
    """Every e-mail the roster gives the signer."""
    roles: tuple[str, ...] = ()
    why: str = ""
    """Why it did not verify (empty when it did)."""

    @property
    def good(self) -> bool:
        return self.signer is not None and self.target is not None


@dataclass(frozen=True)
class Report:
    """All signatures of a ledger: which entries are signed and by whom; which are bad."""

    checked: tuple[Checked, ...] = ()

    def good_for(self, seq: int) -> tuple[Checked, ...]:
        return tuple(c for c in self.checked if c.good and c.target == seq)

    @property
    def signed(self) -> frozenset[int]:
        """Seqs of entries with at least one good signature."""
        return frozenset(c.target for c in self.checked if c.good and c.target is not None)

    @property
    def bad(self) -> tuple[Checked, ...]:
        return tuple(c for c in self.checked if not c.good)


def statement(
    envelope: Mapping[str, JSON],
    *,
    method: str,
    collector: str,
    signer: str,
    summary: str,
    commit: str | None,
    now: datetime,
) -> Statement:
    """The ledger statement carrying one signature envelope."""
    return carrier(
        KIND,
        {"envelope": dict(envelope), "method": method},
        collector=collector,
        summary=summary,
        recorded_by=signer,
        provenance=Provenance.ATTESTED,
        commit=commit,
        now=now,
    )


def carrier(
    kind: str,
    details: Mapping[str, JSON],
    *,
    collector: str,
    summary: str,
    recorded_by: str,
    provenance: Provenance,
    commit: str | None,
    now: datetime,
) -> Statement:
    """A statement of sdl-tracker's own that carries a DSSE envelope in `details` (a signature
    entry, a checkpoint): no artifacts, no requirements, result `info`."""
    return Statement(
        commit=commit,
        artifacts=(),
        predicate=Predicate(
            kind=kind,
            collector=collector,
            tool=Tool(name="sdl-tracker", version=__version__),
            requirements=(),
            result=Result(status=ResultStatus.INFO, summary=summary),
            details=dict(details),
            recorded_by=recorded_by,
            recorded_at=now,
            provenance=provenance,
        ),
    )


def digest(st: Statement) -> str:
    """SHA-256 of a statement's canonical bytes: what a signature over it carries."""
    return hashlib.sha256(canonical(st)).hexdigest()


def targets(records: Iterable[Record]) -> dict[str, tuple[int, ...]]:
    """Digest of each signable statement → the seqs holding it, oldest first (signatures
    themselves are not signed). Two attestations recorded in the same second can be the same
    bytes; `target` tells them apart."""
    found: dict[str, list[int]] = {}
    for r in records:
        if r.statement.predicate.kind != KIND:
            found.setdefault(digest(r.statement), []).append(r.seq)
    return {d: tuple(seqs) for d, seqs in found.items()}


def target(by_digest: Mapping[str, tuple[int, ...]], signed: str, at: int) -> int | None:
    """The entry a signature at seq `at` signs: the newest one before it with those bytes (a
    signature is appended after what it signs, never before)."""
    before = [seq for seq in by_digest.get(signed, ()) if seq < at]
    return before[-1] if before else None
