"""Where ledger bytes live: one small Protocol, several implementations (git branch, directory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from sdl_tracker.ledger.chain import Entry, Head, Segment


class Store(Protocol):
    """A ledger store: append-only entries plus content-addressed artifacts."""

    @property
    def location(self) -> str:
        """Where the ledger lives, for messages (e.g. `branch sdl-ledger of /repo`)."""
        ...

    def exists(self) -> bool:
        """True once `create()` has run (or another process created the ledger)."""
        ...

    def create(self) -> bool:
        """Create an empty ledger; False when it already existed (never touches entries)."""
        ...

    def head(self) -> Head | None:
        """The last entry's seq and hash, or None for an empty ledger."""
        ...

    def append(
        self, entries: Sequence[Entry], objects: Mapping[str, bytes], *, expected: Head | None
    ) -> None:
        """Store `entries` (already chained on `expected`) and `objects` atomically.

        Compare-and-swap: raises HeadMoved when the head is no longer `expected`.
        """
        ...

    def snapshot(self) -> tuple[Head | None, Iterator[Segment]]:
        """The head marker and the stored entry bytes up to it, read consistently."""
        ...

    def read_object(self, sha256: str) -> bytes | None:
        """An artifact's bytes, or None when it is not stored."""
        ...
