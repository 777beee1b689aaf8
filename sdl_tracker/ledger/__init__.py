"""The conformance ledger: append statements, read entries, verify the chain.

Every write goes through `append()`, so the append-only promise has one place to review.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from sdl_tracker.errors import HeadMoved, LedgerError
from sdl_tracker.ledger import chain
from sdl_tracker.ledger.chain import Entry, Head, VerifyReport
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.store import Store
from sdl_tracker.models import Artifact, Statement

__all__ = [
    "DirStore",
    "Entry",
    "GitStore",
    "Head",
    "Store",
    "append",
    "artifact",
    "entries",
    "verify",
]

_ATTEMPTS = 200


def artifact(name: str, data: bytes) -> tuple[Artifact, bytes]:
    """An artifact subject for `data`, with the bytes to store beside it."""
    return Artifact(name=name, sha256=hashlib.sha256(data).hexdigest()), data


def append(
    store: Store, statements: Sequence[Statement], objects: Mapping[str, bytes] = {}
) -> list[Entry]:
    """Chain `statements` onto the head and store them with `objects` as one batch.

    Retries on a concurrent append (compare-and-swap), re-chaining on the new head, so no
    entry is lost or forked. Every artifact a statement names must be in `objects` or already
    stored.
    """
    for statement in statements:
        for a in statement.artifacts:
            if a.sha256 in objects:
                if hashlib.sha256(objects[a.sha256]).hexdigest() != a.sha256:
                    raise LedgerError(f"artifact {a.name}: bytes do not match sha256:{a.sha256}")
            elif store.read_object(a.sha256) is None:
                raise LedgerError(f"artifact {a.name} (sha256:{a.sha256}) is not stored")
    for attempt in range(_ATTEMPTS):
        head = store.head()
        sealed = chain.seal(head, statements)
        try:
            store.append(sealed, objects, expected=head)
            return sealed
        except HeadMoved:
            time.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
    raise LedgerError(f"{store.location}: gave up after {_ATTEMPTS} concurrent-append conflicts")


def entries(store: Store) -> Iterator[Entry]:
    """Every entry in order (headers parsed; statements parsed on demand)."""
    _, segments = store.snapshot()
    for segment in segments:
        for offset, raw in enumerate(segment.data.splitlines()):
            yield chain.parse(raw, f"{segment.where} line {segment.first_line + offset}")


def verify(store: Store) -> VerifyReport:
    """Verify the whole ledger offline; raises ChainError naming the first bad entry."""
    head, segments = store.snapshot()
    if isinstance(store, GitStore):
        with store.object_reader() as reader:
            return chain.verify(segments, reader.read_object, head)
    return chain.verify(segments, store.read_object, head)


def open_store(root: Path | None, *, branch: str, directory: Path | None) -> Store:
    """The directory store when `directory` is given, else the git branch store of `root`."""
    if directory is not None:
        return DirStore(directory)
    if root is None:
        raise LedgerError("no git repository and no --ledger-dir: nowhere to keep the ledger")
    return GitStore(root, branch)
