"""Signed checkpoints: a CI key's signature over the ledger head, as transparency logs sign
their tree heads (docs/concepts/trust.md).

A checkpoint is an entry of its own (kind `checkpoint`), appended by `ci`, `collect` and `gate`
as the last entry of the very batch it covers, in the same atomic append. Its `details` hold a
DSSE envelope whose payload is a small in-toto statement naming the covered head: subject
`sdl-tracker ledger head` with digest `sha256: <hash of entry N>`, predicate `{"seq": N,
"commit": …, "first": F}` where F..N are the entries of the signer's own batch. A
checkpoint at seq N+1 must cover exactly entry N, the entry its own `prev`
link names: so a checkpoint can never be moved, copied to another place or kept across a
re-chaining without contradicting the chain. The same envelope formats as signed attestations
(`gitdata.attest`: a `keygen` Ed25519 key, an SSH key, OpenPGP); the signer must hold the `ci`
role in the committed roster.

Because every earlier byte is fixed by the hash a good checkpoint signs, the last good
checkpoint vouches that nothing up to it changed since (`ledger verify` still checks each one);
it vouches for the *origin* only of its own batch, F..N (`conformance.coverage`): entries
appended between two checkpoints by someone without the key are uncovered. A checkpoint from
before the range was signed (no `first`) names the one entry it surely followed in its batch.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

from sdl_tracker.conformance import signatures
from sdl_tracker.errors import InputError
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.formats.roster import Roster
from sdl_tracker.gitdata import attest
from sdl_tracker.ledger.chain import Entry, Head
from sdl_tracker.models import (
    CHECKPOINT,
    STATEMENT_TYPE,
    Provenance,
    Statement,
    format_time,
)

KIND = CHECKPOINT
ROLE = "ci"
PREDICATE_TYPE = "https://sdl-tracker.dev/ledger-checkpoint/v1"
SUBJECT = "sdl-tracker ledger head"
#: Bytes every checkpoint entry holds (canonical JSON): entries without them are skipped unparsed.
MARK = b'"kind":"checkpoint"'
#: Why a checkpoint's signature could not be judged: no roster names keys.
NO_ROSTER = f"no {roster_mod.FILE} is committed at HEAD to name the signer's key"
#: The signer of a checkpoint whose own signature was not checked: a later good one vouches.
VOUCHED = "(vouched for by a later checkpoint)"
_PROBE_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)


def payload(head: Head, commit: str | None, now: datetime, first: int | None = None) -> bytes:
    """The signed bytes: an in-toto statement naming the covered head and the first entry of
    the signer's own batch (canonical JSON)."""
    predicate: dict[str, object] = {
        "seq": head.seq,
        "commit": commit or "",
        "signed_at": format_time(now),
        "first": head.seq if first is None else first,
    }
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": SUBJECT, "digest": {"sha256": head.hash}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
    return orjson.dumps(statement, option=orjson.OPT_SORT_KEYS)


def statement(
    envelope: attest.Envelope,
    head: Head,
    *,
    collector: str,
    who: str,
    signer: str,
    commit: str | None,
    now: datetime,
) -> Statement:
    """The ledger statement carrying one checkpoint envelope."""
    return signatures.carrier(
        KIND,
        {
            "envelope": envelope.to_json(),
            "method": envelope.method,
            "seq": head.seq,
            "hash": head.hash,
        },
        collector=collector,
        summary=f"ledger head {head.seq} ({head.hash[:12]}…) signed by {signer}",
        recorded_by=who,
        provenance=Provenance.VERIFIED,
        commit=commit,
        now=now,
    )


@dataclass(frozen=True)
class Key:
    """A signing key checked against the roster: its file and the `ci` person it belongs to."""

    path: Path
    signer: str
    """The roster identity `Name <email>`."""

    def maker(
        self, *, collector: str, who: str, commit: str | None, now: datetime, count: int = 1
    ) -> Callable[[Head], Statement]:
        """What `ledger.append(checkpoint=…)` calls with the head of each batch of `count`
        entries (sealed one after another, so the batch is head.seq - count + 1 .. head.seq)."""
        sign = attest.signer_of(self.path)

        def make(head: Head) -> Statement:
            first = max(1, head.seq - count + 1)
            envelope = sign(payload(head, commit, now, first))
            return statement(
                envelope,
                head,
                collector=collector,
                who=who,
                signer=self.signer,
                commit=commit,
                now=now,
            )

        return make


def resolve(key: Path, roster: Roster | None, source: str, now: datetime | None = None) -> Key:
    """Check that `key` signs, as a roster person holding the `ci` role, with a key valid at
    `now` (its roster dates); InputError (exit 2, nothing appended yet) naming `source` (where
    the key came from) otherwise."""
    if roster is None:
        raise InputError(
            f"{source} {key}: checkpoints need the signer in the roster, but no "
            f"{roster_mod.FILE} is committed at HEAD; add one naming this key with role "
            f"{ROLE} (docs/concepts/roster.md), or unset the key"
        )
    try:
        probe = attest.sign(key, payload(Head(0, "0" * 64), None, _PROBE_TIME))
    except InputError as e:
        raise InputError(f"{source} {key}: cannot sign with it: {e}") from e
    person, why = attest.signer(probe, roster)
    if person is None:
        raise InputError(
            f"{source} {key}: {why} ({roster.source}); add its public key to the CI person "
            f"with role {ROLE}"
        )
    if ROLE not in person.roles:
        raise InputError(
            f"{source} {key}: the key is {person.identity}'s, who does not hold the {ROLE} role "
            f"in {roster.source} (roles: {', '.join(person.roles) or 'none'}); only a {ROLE} "
            "key signs checkpoints"
        )
    late = attest.outside_validity(probe, roster, now or datetime.now(timezone.utc))
    if late:
        raise InputError(
            f"{source} {key}: {late}: it cannot sign checkpoints now; give CI a key that is "
            "valid today, or correct the dates in the roster (a reviewed change)"
        )
    return Key(path=key, signer=person.identity)


@dataclass(frozen=True)
class Checked:
    """One checkpoint entry after verification."""

    seq: int
    covers: Head | None
    """The head its signed payload names (None when unreadable)."""
    signer: str | None
    """The roster identity of a good signature by a `ci` key, else None."""
    why: str = ""
    """Why it is bad (empty when good)."""
    contradicts: bool = False
    """Its payload names another head than the entry before it: the chain was re-chained."""
    retired: bool = False
    """Signed by a key the roster no longer gives the ci role (judged with `superseded`)."""
    first: int | None = None
    """The first entry of the signer's own batch its payload names (None: signed before
    checkpoints named their batch; it then vouches for the origin of `covers` alone)."""

    @property
    def good(self) -> bool:
        return self.signer is not None


@dataclass(frozen=True)
class Report:
    """Every checkpoint of a ledger of `entries` entries, checked."""

    entries: int
    checked: tuple[Checked, ...] = ()
    ci_keys: bool = False
    """Whether the roster names a key with the ci role (checkpoints then expected)."""

    @property
    def good(self) -> tuple[Checked, ...]:
        return tuple(c for c in self.checked if c.good)

    @property
    def last_good(self) -> Checked | None:
        good = self.good
        return good[-1] if good else None

    @property
    def superseded(self) -> tuple[Checked, ...]:
        """Checkpoints by a key since removed from the roster (or from the ci role), followed
        by a good checkpoint: a ci key vouched for them when it signed after them."""
        last = self.last_good
        return tuple(
            c
            for c in self.checked
            if c.retired and not c.contradicts and last is not None and c.seq < last.seq
        )

    @property
    def bad(self) -> tuple[Checked, ...]:
        kept = {c.seq for c in self.superseded}
        return tuple(c for c in self.checked if not c.good and c.seq not in kept)

    @property
    def uncovered(self) -> int:
        """Entries after the last good checkpoint (the entries it covers and itself excluded)."""
        last = self.last_good
        return self.entries - (last.seq if last is not None else 0)

    @property
    def missing(self) -> bool:
        """The roster names a ci key, the ledger holds entries, and no checkpoint is good."""
        return self.ci_keys and self.entries > 0 and self.last_good is None


def ci_keys(roster: Roster | None) -> bool:
    """Whether the roster gives the ci role to someone with a key."""
    if roster is None:
        return False
    return any(p.ssh_keys or p.ed25519_keys or p.openpgp for p in roster.holders(ROLE))


def check(entry: Entry, roster: Roster | None, *, signature: bool = True) -> Checked | None:
    """Verify one checkpoint entry: its payload names the entry before it, and (unless
    `signature` is False) its signature is a ci key's in `roster`. None: not a checkpoint."""
    details = _details(entry)
    if details is None:
        return None
    if not isinstance(details, dict):
        return Checked(entry.seq, None, None, why="unreadable details")
    envelope = None
    if signature:
        envelope = attest.Envelope.from_json(details.get("envelope"), details.get("method"))
        if envelope is None:
            return Checked(entry.seq, None, None, why="not a DSSE envelope")
        covers = _covers(envelope.payload)
    else:  # placement only: the payload's bytes, no more (a later good signature vouches)
        covers = _covers(_payload(details.get("envelope")))
    if covers is None:
        return Checked(entry.seq, None, None, why="its payload names no ledger head")
    expected = Head(entry.seq - 1, entry.prev)
    if covers != expected:
        return Checked(
            entry.seq,
            covers,
            None,
            why=f"it signs entry {covers.seq} as {covers.hash[:12]}…, but the entry before it "
            f"is entry {expected.seq} with hash {expected.hash[:12]}…: the ledger was "
            "re-chained (or the checkpoint moved) after it was signed",
            contradicts=True,
        )
    if details.get("seq") != covers.seq or details.get("hash") != covers.hash:
        return Checked(entry.seq, covers, None, why="its details disagree with its signed payload")
    signed = envelope.payload if envelope is not None else _payload(details.get("envelope"))
    batch = _first(signed)
    if batch == 0:
        why = f"its payload names no batch ending at entry {covers.seq}"
        return Checked(entry.seq, covers, None, why=why)
    if envelope is None:
        return Checked(entry.seq, covers, VOUCHED, first=batch)
    if roster is None:
        return Checked(entry.seq, covers, None, why=NO_ROSTER, first=batch)
    person, why = attest.signer(envelope, roster)
    if person is None:
        retired = "is not in the roster" in why
        return Checked(entry.seq, covers, None, why=why, retired=retired, first=batch)
    if ROLE not in person.roles:
        why = f"signed by {person.identity}, who does not hold the {ROLE} role"
        return Checked(entry.seq, covers, None, why=why, retired=True, first=batch)
    late = _outside(envelope, roster)
    if late:
        return Checked(entry.seq, covers, None, why=late, first=batch)
    return Checked(entry.seq, covers, person.identity, first=batch)


def report(
    found: Iterable[Entry], entries: int, roster: Roster | None, *, every: bool = False
) -> Report:
    """Check the checkpoint entries `found` of a ledger of `entries` entries: every one's
    placement (it signs exactly the entry before it), and signatures from the newest back to
    the first good one, whose signed hash fixes every byte before it, earlier checkpoints
    included (a signer checks the newest checkpoint before it adds its own). `every`: each
    checkpoint's signature too (`ledger verify --all-signatures`)."""
    checked: list[Checked] = []
    vouched = False
    for entry in reversed(list(found)):
        one = check(entry, roster, signature=every or not vouched)
        if one is None:
            continue
        vouched = vouched or one.good
        checked.append(one)
    return Report(entries=entries, checked=tuple(reversed(checked)), ci_keys=ci_keys(roster))


def is_checkpoint(entry: Entry) -> bool:
    """Cheap test on the stored bytes; `check` parses and decides."""
    return MARK in entry.raw


def _details(entry: Entry) -> object | None:
    """The predicate details of a checkpoint entry (None when the entry is another kind; an
    unreadable one that holds MARK counts as a checkpoint, and a bad one)."""
    try:
        predicate = orjson.loads(entry.raw)["statement"]["predicate"]
        if predicate.get("kind") != KIND:
            return None
        details: object = predicate.get("details")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return "unreadable"
    return details if details is not None else "missing"


def _payload(envelope: object) -> bytes:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
        return b""
    try:
        return binascii.a2b_base64(envelope["payload"])
    except (binascii.Error, ValueError):
        return b""


def _outside(envelope: attest.Envelope, roster: Roster) -> str:
    """Why the signing key was outside its roster dates when the checkpoint says it signed
    (`signed_at`, the signer's own clock: later checkpoints and anchors bound it)."""
    if attest.key_validity(envelope, roster) is None:
        return ""
    try:
        signed_at = datetime.fromisoformat(
            str(orjson.loads(envelope.payload)["predicate"]["signed_at"]).replace("Z", "+00:00")
        )
    except (ValueError, KeyError, TypeError):
        return "its payload names no signing time, and its key has validity dates"
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=timezone.utc)
    return attest.outside_validity(envelope, roster, signed_at)


def _first(data: bytes) -> int | None:
    """The first entry of the batch a payload names: None when it names none (an older
    checkpoint), 0 when what it names is not a seq at or before the head it signs."""
    try:
        predicate = orjson.loads(data)["predicate"]
        if "first" not in predicate:
            return None
        first, seq = predicate["first"], predicate["seq"]
    except (ValueError, KeyError, TypeError):
        return 0
    if not isinstance(first, int) or isinstance(first, bool) or not isinstance(seq, int):
        return 0
    return first if 1 <= first <= seq else 0


def _covers(data: bytes) -> Head | None:
    try:
        st = orjson.loads(data)
        subject = st["subject"]
        if st.get("predicateType") != PREDICATE_TYPE or len(subject) != 1:
            return None
        if subject[0].get("name") != SUBJECT:
            return None
        digest, seq = subject[0]["digest"]["sha256"], st["predicate"]["seq"]
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    if not isinstance(digest, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return Head(seq=seq, hash=digest)
