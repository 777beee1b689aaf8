"""Where ledger bytes live: one small Protocol, several implementations (git branch, directory)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Union

from sdl_tracker.errors import LedgerError
from sdl_tracker.ledger.chain import Entry, Head, Segment

CHUNK = 1 << 20  # bytes of an artifact read at a time


@dataclass(frozen=True)
class FileObject:
    """An artifact stored from a regular file, streamed: never held in memory whole.

    `size` is the file's size when it was hashed; a store re-reads the file through `copy`,
    which checks that the bytes are still those hashed (else nothing is stored).
    """

    path: Path
    size: int


Object = Union[bytes, FileObject]
"""An artifact to store: its bytes, or the file holding them."""


def size_of(data: Object) -> int:
    return data.size if isinstance(data, FileObject) else len(data)


def copy(sha256: str, data: Object) -> Iterator[bytes]:
    """`data` in pieces of at most CHUNK bytes, re-hashed on the way.

    Raises LedgerError after the last piece when the bytes are not those of `sha256` (a file
    changed, grew or shrank since it was hashed): the consumer then discards what it wrote.
    """
    if not isinstance(data, FileObject):
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]
        return
    digest, read = hashlib.sha256(), 0
    with open_regular(data.path) as f:
        while read <= data.size:
            block = f.read(min(CHUNK, data.size + 1 - read))
            if not block:
                break
            read += len(block)
            digest.update(block)
            yield block[: max(0, len(block) - max(0, read - data.size))]
    if read != data.size or digest.hexdigest() != sha256:
        # Grown: only one byte past the size was read, so neither its size nor its hash is known.
        now = (
            f"more than {data.size} bytes"
            if read > data.size
            else f"{read} bytes, sha256 {digest.hexdigest()[:12]}…"
        )
        raise LedgerError(
            f"{data.path} changed while it was being recorded (now {now}; it was {data.size} "
            f"bytes, sha256 {sha256[:12]}…); nothing was appended. Record it again once it no "
            "longer changes"
        )


def open_regular(path: Path) -> io.BufferedReader:
    """A regular file opened for reading without following a final symlink or blocking on a
    FIFO; LedgerError when the path is now anything else."""
    try:
        fd = os.open(
            path,
            os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0),
        )
    except OSError as e:
        raise LedgerError(
            f"{path}: cannot read the artifact ({e.strerror or e}; a symlink is not followed "
            "here); nothing was appended"
        ) from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LedgerError(f"{path}: no longer a regular file; nothing was appended")
    return os.fdopen(fd, "rb")


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
        self, entries: Sequence[Entry], objects: Mapping[str, Object], *, expected: Head | None
    ) -> None:
        """Store `entries` (already chained on `expected`) and `objects` atomically.

        A FileObject is copied in pieces (constant memory) and checked against its key while
        it is copied (see `copy`).

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
