"""The conformance ledger: append statements, read entries, verify the chain.

Every write goes through `append()`, so the append-only promise has one place to review.
"""

from __future__ import annotations

import functools
import hashlib
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from sdl_tracker.errors import ChainError, HeadMoved, LedgerError
from sdl_tracker.ledger import chain, history, trust
from sdl_tracker.ledger.chain import Entry, Head, Segment, VerifyReport
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.pgstore import PgStore
from sdl_tracker.ledger.store import CHUNK, FileObject, Object, Store, open_regular
from sdl_tracker.models import Artifact, Statement

__all__ = [
    "DirStore",
    "Entry",
    "GitStore",
    "Head",
    "Store",
    "FileObject",
    "append",
    "artifact",
    "artifact_file",
    "entries",
    "verify",
]

_ATTEMPTS = 200


def artifact(name: str, data: bytes) -> tuple[Artifact, bytes]:
    """An artifact subject for `data`, with the bytes to store beside it."""
    return Artifact(name=name, sha256=hashlib.sha256(data).hexdigest()), data


def artifact_file(name: str, path: Path, size: int) -> tuple[Artifact, FileObject]:
    """An artifact subject for the regular file at `path` (`size` bytes when it was checked),
    hashed in pieces: constant memory for a file of any size. The store re-reads the file and
    checks it again while it copies it."""
    digest, read = hashlib.sha256(), 0
    with open_regular(path) as f:
        while block := f.read(min(CHUNK, size + 1 - read)):
            read += len(block)
            digest.update(block)
    if read != size:
        raise LedgerError(
            f"{path} changed while it was being read (it was {size} bytes, then {read}); "
            "nothing was appended. Record it again once it no longer changes"
        )
    return Artifact(name=name, sha256=digest.hexdigest()), FileObject(path=path, size=size)


def append(
    store: Store,
    statements: Sequence[Statement],
    objects: Mapping[str, Object] = {},
    *,
    checkpoint: Callable[[Head], Statement] | None = None,
) -> list[Entry]:
    """Chain `statements` onto the head and store them with `objects` as one batch.

    Retries on a concurrent append (compare-and-swap), re-chaining on the new head, so no
    entry is lost or forked. Every artifact a statement names must be in `objects` or already
    stored. A FileObject is checked against its SHA-256 by the store, while it is copied.

    `checkpoint` makes the batch's last entry: given the head the batch's own entries end at
    (verified chain, sealed here), it returns the statement that signs it (a signed
    checkpoint). It is called again when a concurrent append re-chains the batch, and the
    checkpoint is stored in the same atomic append as the entries it covers.
    """
    for statement in statements:
        for a in statement.artifacts:
            data = objects.get(a.sha256)
            if isinstance(data, FileObject):
                continue
            if data is not None:
                if hashlib.sha256(data).hexdigest() != a.sha256:
                    raise LedgerError(f"artifact {a.name}: bytes do not match sha256:{a.sha256}")
            elif store.read_object(a.sha256) is None:
                raise LedgerError(f"artifact {a.name} (sha256:{a.sha256}) is not stored")
    for attempt in range(_ATTEMPTS):
        # Verified first, on every attempt: nothing is ever appended to a broken chain.
        head = trust.check(store)
        sealed = chain.seal(head, statements)
        if checkpoint is not None and sealed:
            last = Head(seq=sealed[-1].seq, hash=sealed[-1].hash)
            sealed += chain.seal(last, [checkpoint(last)])
        try:
            store.append(sealed, objects, expected=head)
            if sealed:
                trust.appended(store, Head(seq=sealed[-1].seq, hash=sealed[-1].hash))
            return sealed
        except HeadMoved:
            time.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
    raise LedgerError(
        f"{store.location}: gave up after {_ATTEMPTS} concurrent-append conflicts (other "
        "writers moved the head every time); nothing of this command was appended and every "
        "other writer's entries are kept. Run the command again"
    )


def entries(store: Store) -> Iterator[Entry]:
    """Every entry in order, verified (UnverifiedLedger, exit 2, names the first bad one).

    What judges or reports reads this. Read to the end: a break is raised where it is found,
    and the head marker is compared after the last entry.
    """
    return trust.entries(store)


def unverified_entries(store: Store) -> Iterator[Entry]:
    """Every entry as stored, unchecked: for looking into a ledger that does not verify."""
    _, segments = store.snapshot()
    for segment in segments:
        for offset, raw in enumerate(segment.data.splitlines()):
            yield chain.parse(raw, f"{segment.where} line {segment.first_line + offset}")


def verify(store: Store, visit: Callable[[Segment], object] | None = None) -> VerifyReport:
    """Verify the whole ledger offline, every artifact included; raises ChainError naming the
    first bad entry, or a remembered entry that is gone or changed (a rewind).

    `visit` sees each segment of stored lines once its entries' hashes, links and artifacts are
    verified (in order), so a caller can look for entries of interest (`find_lines`) without
    reading the ledger twice."""
    path = trust.memo_path(store)
    memo = trust.read_memo(path)
    if isinstance(store, PgStore):
        # The mark is taken in the snapshot the entries are read from (`trust.pg_verify`).
        return trust.pg_verify(store, memo, path, visit)
    at = trust.mark(store)
    view = trust.fixed(store, at)
    head, segments = view.snapshot()
    known = memo.head if memo is not None else None
    if isinstance(view, GitStore):
        with view.object_reader() as reader:
            report = chain.verify(
                segments, reader.read_object, head, known=known, reread=True, visit=visit
            )
    else:
        report = chain.verify(
            segments, view.read_object, head, known=known, reread=True, visit=visit
        )
    if isinstance(view, GitStore) and at:
        # A plain commit deleting entries/ leaves a valid empty chain: the history tells.
        history.check(view)
    trust.write_memo(path, trust.Memo(head=head, mark=at))
    return report


def find_lines(segment: Segment, marks: Sequence[bytes]) -> Iterator[Entry]:
    """The entries of `segment` whose stored line holds any of `marks`, in order: a search of
    the segment's bytes (C speed), not a loop over its lines.

    Marks that share a key (`"collector":"record"`, `"collector":"waive"`, …) are found in one
    pass: each `"collector":"` is a hit, its value compared with theirs. One pass instead of
    one per mark, which is most of what looking for people's entries costs `ledger verify`."""
    data = segment.data
    starts: set[int] = set()
    for needle, values in _searches(tuple(marks)):
        skip = len(needle)
        pos = data.find(needle)
        while pos >= 0:
            if not values or data.startswith(values, pos + skip):
                starts.add(data.rfind(b"\n", 0, pos) + 1)
            pos = data.find(needle, pos + 1)
    for start in sorted(starts):
        end = data.find(b"\n", start)
        # Verified lines: `where` names the segment only (counting the newlines before each
        # hit would read the segment again per hit).
        yield chain.parse(data[start : end if end >= 0 else len(data)], segment.where)


_MEMBER = b'":"'


@functools.lru_cache(maxsize=16)
def _searches(marks: tuple[bytes, ...]) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """What `find_lines` searches for `marks`: (needle, values) pairs. A mark is found where its
    needle is followed by one of its values; `()` means the needle is the whole mark. Marks
    `"key":"value"` that share their key share one needle, `"key":"`."""
    keys: dict[bytes, list[bytes]] = {}
    for mark in marks:
        key, sep, value = mark.partition(_MEMBER)
        keys.setdefault(key + sep if sep and value else mark, []).append(value if sep else b"")
    found: list[tuple[bytes, tuple[bytes, ...]]] = []
    for needle, values in keys.items():
        if not all(values):  # the needle is itself a mark: every line holding it
            found.append((needle, ()))
        elif len(values) == 1:
            found.append((needle + values[0], ()))
        else:
            found.append((needle, tuple(values)))
    return tuple(found)


def open_store(root: Path | None, *, branch: str, directory: Path | None) -> Store:
    """The directory store when `directory` is given, else the git branch store of `root`."""
    if directory is not None:
        return DirStore(directory)
    if root is None:
        raise LedgerError("no git repository and no --ledger-dir: nowhere to keep the ledger")
    return GitStore(root, branch)


def holds(store: Store, anchors: Sequence[Head]) -> None:
    """ChainError unless the ledger holds every anchor (an entry seen elsewhere: seq and hash).

    Run after `verify`: a ledger rolled back behind an anchor, or rewritten since, is caught
    here even though its own chain is consistent.
    """
    wanted = {a.seq: a for a in anchors}
    last = 0
    for entry in unverified_entries(store):
        last = entry.seq
        anchor = wanted.pop(entry.seq, None)
        if anchor is not None and anchor.hash != entry.hash:
            raise ChainError(
                entry.seq,
                "anchor",
                f"expected hash {anchor.hash[:12]}…, the ledger holds {entry.hash[:12]}…: it "
                "was rewritten since that point was recorded",
            )
        if not wanted:
            return
    first = min(wanted)
    raise ChainError(
        first,
        "anchor",
        f"the ledger ends at entry {last} but entry {first} ({wanted[first].hash[:12]}…) was "
        "recorded elsewhere: it was rolled back",
    )
