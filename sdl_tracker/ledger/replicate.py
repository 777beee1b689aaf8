"""Copy a ledger's entries between stores (`ledger push` / `ledger pull`), byte for byte.

Both chains are verified first; the target must hold a prefix of the source (same hashes), and
only the entries after it are appended, with the artifacts they name, in batches that are each
one compare-and-swap append. Running it again copies nothing (idempotent). Divergent history is
never overwritten: the error names the first entry where the two chains differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, HeadMoved, LedgerError
from sdl_tracker.ledger.chain import Entry, Head
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.pgstore import PgStore
from sdl_tracker.ledger.store import Store

BATCH = 2000


@dataclass(frozen=True)
class Replication:
    """What a push or pull did."""

    source: str
    target: str
    copied: int
    """Entries appended to the target."""
    artifacts: int
    """Artifacts sent with them (the target keeps each digest once)."""
    entries: int
    """Entries in the target afterwards (all verified)."""
    ahead: int
    """Entries the target holds beyond the source (left alone: pull them the other way)."""


def replicate(source: Store, target: Store, *, batch: int = BATCH) -> Replication:
    """Append to `target` the entries of `source` it lacks; LedgerError if they diverge."""
    _verified(source, "source")
    if not target.exists():
        target.create()
    _verified(target, "target")
    have = [e.hash for e in ledger.entries(target)]
    head = Head(seq=len(have), hash=have[-1]) if have else None
    copied = artifacts = total = 0
    pending: list[Entry] = []
    with _reader(source) as read_object:
        for entry in ledger.entries(source):
            total += 1
            if entry.seq <= len(have):
                if have[entry.seq - 1] != entry.hash:
                    noted = _witness(source, target, entry, have[entry.seq - 1])
                    raise _diverged(source, target, entry, have[entry.seq - 1], noted)
                continue
            pending.append(entry)
            if len(pending) >= batch:
                head, sent = _send(source, target, pending, head, read_object)
                copied, artifacts, pending = copied + len(pending), artifacts + sent, []
        if pending:
            head, sent = _send(source, target, pending, head, read_object)
            copied, artifacts = copied + len(pending), artifacts + sent
    after = _verified(target, "target")
    return Replication(
        source=source.location,
        target=target.location,
        copied=copied,
        artifacts=artifacts,
        entries=after,
        ahead=max(len(have) - total, 0),
    )


def _verified(store: Store, role: str) -> int:
    try:
        return ledger.verify(store).entries
    except ChainError as e:
        raise ChainError(
            e.seq,
            f"{role} {store.location}: {e.where}",
            f"{e.reason}; nothing was copied past the last verified entry",
        ) from e


def _diverged(source: Store, target: Store, entry: Entry, theirs: str, noted: str) -> LedgerError:
    return LedgerError(
        f"the ledgers diverge at entry {entry.seq}: {source.location} has {entry.hash[:12]}…, "
        f"{target.location} has {theirs[:12]}… (entries 1..{entry.seq - 1} agree). Refusing to "
        "overwrite either history; find out which one is right (`sdl-tracker ledger show "
        f"{entry.seq}` on each) before replicating{noted}"
    )


def _witness(source: Store, target: Store, entry: Entry, theirs: str) -> str:
    """Record the refusal in the central ledger's witness table, when one side is PostgreSQL;
    a sentence for the error message ("" when neither side is)."""
    if isinstance(target, PgStore):
        central, direction, mine, central_hash, other_hash = (
            target,
            "push",
            source,
            theirs,
            entry.hash,
        )
    elif isinstance(source, PgStore):
        central, direction, mine, central_hash, other_hash = (
            source,
            "pull",
            target,
            entry.hash,
            theirs,
        )
    else:
        return ""
    try:
        central.witness(
            direction=direction,
            seq=entry.seq,
            central_hash=central_hash,
            other_hash=other_hash,
            other=mine.location,
        )
    except LedgerError as e:
        return f". The refusal could NOT be recorded in the central ledger's witness table: {e}"
    return (
        ". The refusal is recorded in the central ledger (table sdl_tracker.refusals) and "
        "`sdl-tracker org status` flags this repository"
    )


def _send(
    source: Store,
    target: Store,
    entries: list[Entry],
    head: Head | None,
    read_object: Callable[[str], bytes | None],
) -> tuple[Head, int]:
    objects: dict[str, bytes] = {}
    for entry in entries:
        for digest in entry.objects:
            if digest not in objects:
                data = read_object(digest)
                if data is None:
                    raise LedgerError(
                        f"{source.location}: entry {entry.seq} names artifact sha256:{digest}, "
                        "which is not stored"
                    )
                objects[digest] = data
    try:
        target.append(entries, objects, expected=head)
    except HeadMoved as e:
        raise LedgerError(
            f"{target.location} moved while copying (another writer appended): run the command "
            "again; what was copied so far is a verified prefix"
        ) from e
    last = entries[-1]
    return Head(seq=last.seq, hash=last.hash), len(objects)


@contextmanager
def _reader(store: Store) -> Iterator[Callable[[str], bytes | None]]:
    """One `git cat-file` process for all artifacts of a git store; plain reads otherwise."""
    if isinstance(store, GitStore):
        with store.object_reader() as cat:
            yield cat.read_object
    else:
        yield store.read_object
