"""Where ledger bytes live: one small Protocol, several implementations (git branch, directory)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from sdl_tracker.errors import LedgerError
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


_CAUSES = {
    errno.ENOSPC: "no space left on device",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EDQUOT: "disk quota exceeded",
}
# The same causes as git (LC_ALL=C) prints them, strerror's words.
_GIT_CAUSES = {os.strerror(code): text for code, text in _CAUSES.items()}
_GIT_CAUSES["Out of diskspace"] = _CAUSES[errno.ENOSPC]  # git's own words (write_or_die)


def write_failed(location: str, cause: OSError | str) -> LedgerError:
    """The user error for a write that the operating system refused (full disk, read-only...).

    Every caller has undone its partial write first, so it can say that nothing was appended.
    """
    if isinstance(cause, OSError):
        text = _CAUSES.get(cause.errno or 0) or cause.strerror or str(cause)
        where = f" ({cause.filename})" if cause.filename else ""
    else:
        found = [text for words, text in _GIT_CAUSES.items() if words in cause]
        text = found[0] if found else cause.strip().splitlines()[-1] if cause.strip() else "?"
        where = ""
    return LedgerError(
        f"{text} writing the ledger at {location}{where}; nothing was appended. Free space or "
        "fix the permissions, then run the command again"
    )
