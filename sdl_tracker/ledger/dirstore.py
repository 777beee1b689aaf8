"""A ledger in a plain directory, for use outside git (`--ledger-dir PATH`).

Layout::

    HEAD            {"bytes":<committed size of entries.jsonl>,"hash":"<H>","seq":<N>}
    entries.jsonl   one entry per line, append-only
    objects/<2 hex>/<62 hex>
    lock            flock(2) target serialising writers

An append takes the lock, checks the head (compare-and-swap), writes the artifacts (temporary
file, fsync, rename), cuts `entries.jsonl` back to the committed size (dropping what a killed
writer left half-written), appends and fsyncs the lines, then replaces HEAD atomically. HEAD is
the commit point: readers never look past its byte count, so a writer killed at any moment
leaves every entry whose append returned, and nothing else.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from sdl_tracker.errors import HeadMoved, LedgerError
from sdl_tracker.ledger.chain import Entry, Head, Segment
from sdl_tracker.ledger.store import Object, copy, write_failed

_CHUNK = 8 << 20  # bytes read at a time


class DirStore:
    """A ledger in directory `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = ""
        """`mark()` right after this object's last append ("" before one)."""

    @property
    def location(self) -> str:
        return f"directory {self.path}"

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file()

    def create(self) -> bool:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with self._lock():
                if self.exists():
                    return False
                (self.path / "objects").mkdir(exist_ok=True)
                (self.path / "entries.jsonl").touch()
                self._write_head(None, 0)
        except OSError as e:
            raise write_failed(self.location, e) from e
        return True

    def _lock(self) -> _Lock:
        return _Lock(self.path / "lock")

    def _read_head(self) -> tuple[Head | None, int]:
        path = self.path / "HEAD"
        try:
            data = json.loads(path.read_bytes())
            size = int(data["bytes"])
            head = Head(seq=int(data["seq"]), hash=str(data["hash"])) if data["seq"] else None
        except FileNotFoundError as e:
            raise LedgerError(
                f"no ledger in {self.path} (no HEAD file): run `sdl-tracker init --ledger-dir "
                f"{self.path}` to create one"
            ) from e
        except (ValueError, KeyError, TypeError) as e:
            raise LedgerError(
                f"{path}: not a ledger head marker ({e}); expected "
                '{"bytes":N,"hash":"<64 hex>","seq":N}'
            ) from e
        return head, size

    def _write_head(self, head: Head | None, size: int) -> None:
        data = json.dumps(
            {"bytes": size, "hash": head.hash if head else "", "seq": head.seq if head else 0},
            sort_keys=True,
        ).encode()
        _atomic_write(self.path / "HEAD", (data,))

    def head(self) -> Head | None:
        return self._read_head()[0]

    def append(
        self, entries: Sequence[Entry], objects: Mapping[str, Object], *, expected: Head | None
    ) -> None:
        if not entries:
            return
        try:
            with self._lock():
                head, size = self._read_head()
                if head != expected:
                    raise HeadMoved(f"{self.location}: head moved to {head}, expected {expected}")
                try:
                    self._write(entries, objects, size)
                except OSError as e:
                    self._undo(size)
                    raise write_failed(self.location, e) from e
                self.written = self.mark()
        except OSError as e:  # the lock file itself (a read-only directory)
            raise write_failed(self.location, e) from e

    def _write(self, entries: Sequence[Entry], objects: Mapping[str, Object], size: int) -> None:
        for sha, data in objects.items():
            target = self._object_path(sha)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(target, copy(sha, data))
        data = b"".join(e.raw + b"\n" for e in entries)
        with open(self.path / "entries.jsonl", "r+b") as f:
            f.truncate(size)
            f.seek(size)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        last = entries[-1]
        self._write_head(Head(seq=last.seq, hash=last.hash), size + len(data))

    def _undo(self, size: int) -> None:
        """Cut the entry file back to the committed size, unless HEAD was replaced already
        (then the append did happen, only its final directory fsync failed)."""
        with contextlib.suppress(OSError, LedgerError):
            if self._read_head()[1] == size:
                with open(self.path / "entries.jsonl", "r+b") as f:
                    f.truncate(size)

    def mark(self) -> str:
        """Changes whenever HEAD or the entry file is written ("" when unreadable)."""
        try:
            head = (self.path / "HEAD").read_bytes()
            st = os.stat(self.path / "entries.jsonl")
        except OSError:
            return ""
        ident = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
        return hashlib.sha256(head + b"\n" + ident.encode()).hexdigest()

    def snapshot(self) -> tuple[Head | None, Iterator[Segment]]:
        head, size = self._read_head()
        return head, self._segments(size)

    def _segments(self, size: int) -> Iterator[Segment]:
        """The first `size` bytes of entries.jsonl in whole-line segments of about _CHUNK bytes,
        so that reading a ledger of any length takes bounded memory."""
        path = self.path / "entries.jsonl"
        try:
            f = open(path, "rb")
        except FileNotFoundError as e:
            raise LedgerError(f"{path} is missing: the ledger directory is damaged") from e
        except OSError as e:  # a directory, or unreadable
            raise LedgerError(
                f"{path} cannot be read ({e.strerror or e}): the ledger directory is damaged"
            ) from e
        with f:
            line, read, rest = 1, 0, b""
            while read < size:
                block = f.read(min(_CHUNK, size - read))
                if not block:
                    break
                read += len(block)
                data = rest + block
                cut = len(data) if read == size else data.rfind(b"\n") + 1
                rest = data[cut:]
                if cut:
                    yield Segment(where=str(path), data=data[:cut], first_line=line)
                    line += data.count(b"\n", 0, cut)
        if read < size:
            # Truncation is tampering like any other: let verification name the first entry
            # lost (or cut short) rather than refuse to read.
            where = f"{path} (truncated: {read} of the {size} bytes HEAD records)"
            yield Segment(where=where, data=rest, first_line=line)

    def _object_path(self, sha256: str) -> Path:
        return self.path / "objects" / sha256[:2] / sha256[2:]

    def read_object(self, sha256: str) -> bytes | None:
        try:
            return self._object_path(sha256).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None


class _Lock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> _Lock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _atomic_write(path: Path, chunks: Iterable[bytes]) -> None:
    """Write `chunks` to a temporary file, fsync it and rename it onto `path`; the temporary
    file is removed whatever fails (a full disk, or an artifact that changed while copied)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
