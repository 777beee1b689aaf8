"""Verify before believing: every reading or appending path checks the chain first.

Each store remembers, in a small memo file, the last entry verified on this machine (seq, hash)
and a mark of the store's state at that moment (the branch's commit id; the directory's head
marker and entry file identity; for a PostgreSQL chain the SHA-256 of every row's seq, `xmin`
and `ctid` up to the entry verified, and the head row, computed in the very REPEATABLE READ
snapshot that the entries are read from: `PgStore.pinned`). The next check:

* skips everything when the mark is unchanged (a git commit id covers every byte of its tree;
  any write of a PostgreSQL row, by whatever transaction, leaves a new row version elsewhere);
* on the branch, verifies only the entry files added since (the commits only added files);
* in a directory, hashes the entry file's prefix verified here in one pass (the memo keeps its
  size and SHA-256) and verifies only the lines after it;
* on PostgreSQL, when the rows up to the entry verified here are unchanged (their digest) and
  that entry still hashes as remembered, verifies only the rows after it;
* otherwise re-hashes every entry line (each hash, link and sequence number), confirms that the
  remembered entry is still there with the same hash (a rewind or rewrite is refused), and reads
  the artifacts only of the entries that came after it.

The memo is a cache, not an anchor, and it is only as trustworthy as the place it lives in:
deleting it costs one full check, but a memo rewritten to name the store's current mark skips
the check altogether (and a rewritten prefix hash lets edited bytes inside the prefix through).
`ledger verify` never trusts it. Where it lives: `.git/sdl-tracker/verified-<branch>` for the git
store (as trustworthy as the repository's `.git`, which also holds its hooks and config), and a
file under the user's cache directory (`$XDG_CACHE_HOME/sdl-tracker/`, by default
`~/.cache/sdl-tracker/`) for a directory store (keyed by its path, so that whoever can only edit
the directory cannot rewrite it) and for each PostgreSQL chain.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from sdl_tracker.errors import ChainError, UnverifiedLedger
from sdl_tracker.gitdata import git
from sdl_tracker.ledger import history
from sdl_tracker.ledger.chain import (
    Entry,
    Head,
    ObjectReader,
    Segment,
    Verifier,
    VerifyReport,
    parse,
)
from sdl_tracker.ledger.chain import verify as verify_chain
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import CatFile, GitStore
from sdl_tracker.ledger.pgstore import PgStore, Pinned, Rows
from sdl_tracker.ledger.store import Store


@dataclass(frozen=True)
class Prefix:
    """A directory store's entry file as verified here: its first `size` bytes, their SHA-256,
    and the entry they end with. An append only adds bytes after them, so the next check hashes
    those bytes in one pass (C speed) instead of re-hashing every entry line."""

    size: int
    sha256: str
    head: Head | None


@dataclass(frozen=True)
class Memo:
    """The last entry verified here and the store's mark at that moment ("" when unknown)."""

    head: Head | None
    mark: str
    prefix: Prefix | None = None


def memo_path(store: Store) -> Path | None:
    """Where `store`'s memo lives; None for a read-only view (a fixed commit)."""
    if isinstance(store, GitStore):
        if store.ref != f"refs/heads/{store.branch}":
            return None
        common = git.out(store.root, "rev-parse", "--git-common-dir")
        name = store.branch.replace("/", "%2F")
        return store.root / common / "sdl-tracker" / f"verified-{name}"
    if isinstance(store, DirStore):
        # Outside the directory: whoever can edit the directory could otherwise rewrite the
        # memo to match their edit, and a restore of the whole directory would bring an older
        # memo back with it.
        where = str(store.path.resolve())
        return _cache(f"verified-dir-{hashlib.sha256(where.encode()).hexdigest()[:24]}")
    key = hashlib.sha256(store.location.encode()).hexdigest()[:24]
    return _cache(f"verified-{key}")


def _cache(name: str) -> Path | None:
    """`$XDG_CACHE_HOME/sdl-tracker/NAME`, or `~/.cache/sdl-tracker/NAME` when XDG_CACHE_HOME is
    unset or not an absolute path (the XDG base directory specification ignores a relative
    one); None when there is no home directory either (then every check is a full one)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "sdl-tracker" / name


def read_memo(path: Path | None) -> Memo | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_bytes())
        seq, digest, mark = int(data["seq"]), str(data["hash"]), str(data["mark"])
        prefix = _prefix(data.get("prefix"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no memo, or an unreadable one: the next check is a full one
    return Memo(head=Head(seq=seq, hash=digest) if seq else None, mark=mark, prefix=prefix)


def _prefix(data: Any) -> Prefix | None:
    if data is None:
        return None
    seq, size, digest = int(data["seq"]), int(data["bytes"]), str(data["sha256"])
    head = Head(seq=seq, hash=str(data["hash"])) if seq else None
    return Prefix(size=size, sha256=digest, head=head)


def write_memo(path: Path | None, memo: Memo) -> None:
    """Remember `memo`; a read-only repository just means the next check is a full one."""
    if path is None:
        return
    head = memo.head
    fields: dict[str, Any] = {
        "seq": head.seq if head else 0,
        "hash": head.hash if head else "",
        "mark": memo.mark,
    }
    if memo.prefix is not None:
        end = memo.prefix.head
        fields["prefix"] = {
            "bytes": memo.prefix.size,
            "sha256": memo.prefix.sha256,
            "seq": end.seq if end else 0,
            "hash": end.hash if end else "",
        }
    data = json.dumps(fields).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def forget(store: Store) -> None:
    """Drop the memo: the tool itself re-chained local entries (a replay after a push race)."""
    path = memo_path(store)
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def mark(store: Store) -> str:
    """A string that changes whenever the store's bytes may have changed ("" when unknowable)."""
    if isinstance(store, GitStore):
        store.ensure_not_checked_out()
        return store.commit() or ""
    if isinstance(store, DirStore):
        return store.mark()
    return ""  # PostgreSQL: the mark is taken inside the snapshot that reads (`_pg`)


def fixed(store: Store, at: str) -> Store:
    """The store as of mark `at`: a git branch read at that commit (others as they are)."""
    if isinstance(store, GitStore) and at:
        return GitStore(store.root, store.branch, at=at)
    return store


def check(store: Store) -> Head | None:
    """The verified head; UnverifiedLedger (exit 2) when the chain does not verify."""
    path = memo_path(store)
    memo = read_memo(path)
    if isinstance(store, PgStore):
        return _drain(_pg(store, memo, path, read=False))
    now = mark(store)
    if memo is not None and now and memo.mark == now:
        return memo.head
    if isinstance(store, GitStore) and memo is not None and memo.mark and now:
        try:
            found = _since(store, memo, now)
        except ChainError as e:
            raise UnverifiedLedger(store.location, e) from e
        if found is not None:
            write_memo(path, Memo(head=found[0], mark=now))
            return found[0]
    head = None
    for entry in entries(store, at=now, memo=memo, path=path):
        head = Head(seq=entry.seq, hash=entry.hash)
    return head


def entries(
    store: Store, *, at: str | None = None, memo: Memo | None = None, path: Path | None = None
) -> Iterator[Entry]:
    """Every entry in order, each verified before it is yielded; the head checked at the end.

    A consumer must read to the end: a break found later raises only then.
    """
    if path is None:
        path = memo_path(store)
        memo = read_memo(path)
    if isinstance(store, PgStore):
        yield from _pg(store, memo, path, read=True)
        return
    if at is None:
        at = mark(store)
    view = fixed(store, at)
    if memo is not None and at and memo.mark == at:
        # Unchanged since it was verified here (a git commit id covers every byte of its tree).
        yield from _unchecked(view)
        return
    if isinstance(store, GitStore) and memo is not None and memo.mark and at:
        # Commits since only added files: the older entry blobs are the very bytes verified.
        try:
            found = _since(store, memo, at)
        except ChainError as e:
            raise UnverifiedLedger(store.location, e) from e
        if found is not None:
            write_memo(path, Memo(head=found[0], mark=at))
            yield from _unchecked(view)
            return
    if isinstance(store, DirStore) and memo is not None and memo.prefix is not None and at:
        # Appends only add bytes after the prefix verified here: hash it whole, verify the rest.
        yield from _dir_since(store, memo, memo.prefix, at, path)
        return
    known = memo.head if memo is not None else None
    whole = hashlib.sha256() if isinstance(store, DirStore) else None
    size = 0
    try:
        if isinstance(view, GitStore) and at:
            # The first check here, or a memo whose commit git no longer has (`_since` found
            # nothing to start from, a forged memo as well as one from before a force-push
            # and a gc): walk the whole branch, every commit must only add files.
            history.check(view)
        head, segments = view.snapshot()
        with _reader(view) as read_object:
            verifier = Verifier(read_object, known=known)
            for segment in segments:
                if whole is not None:
                    whole.update(segment.data)
                    size += len(segment.data)
                yield from verifier.entries(segment)
            verifier.finish(head)
    except ChainError as e:
        raise UnverifiedLedger(store.location, e) from e
    prefix = Prefix(size, whole.hexdigest(), head) if whole is not None else None
    write_memo(path, Memo(head=head, mark=at, prefix=prefix))


def _dir_since(
    store: DirStore, memo: Memo, prefix: Prefix, at: str, path: Path | None
) -> Iterator[Entry]:
    """Every entry of a directory store whose first `prefix.size` bytes were verified here:
    those bytes are hashed in one pass and compared with the memo (their entries are parsed,
    not re-hashed one by one), the lines after them are verified as usual. A prefix that
    changed is a full check naming the first bad entry, raised after the last entry."""
    head, segments = store.snapshot()
    # One pass of SHA-256: the whole file's hash continues from a copy of the prefix's.
    before, whole, offset, full = hashlib.sha256(), None, 0, False
    try:
        with _reader(store) as read_object:
            verifier = Verifier(read_object, start=prefix.head, known=memo.head)
            for segment in segments:
                data = segment.data
                cut = min(max(prefix.size - offset, 0), len(data))
                offset += len(data)
                if cut:
                    before.update(memoryview(data)[:cut])
                    for number, raw in enumerate(data[:cut].splitlines(), segment.first_line):
                        yield parse(raw, f"{segment.where} line {number}")
                if cut < len(data):
                    whole = whole or before.copy()
                    whole.update(memoryview(data)[cut:])
                    first = segment.first_line + data.count(b"\n", 0, cut)
                    rest = Segment(where=segment.where, data=data[cut:], first_line=first)
                    yield from verifier.entries(rest)
            if offset < prefix.size or before.hexdigest() != prefix.sha256:
                full = True
                _full_check(store, memo.head)
            verifier.finish(head)
    except ChainError as e:
        if not full and before.hexdigest() != prefix.sha256:
            # A line failed, but the prefix itself changed: a rewrite at another length cuts
            # the lines after it anywhere, and an unreadable line inside it has no sequence
            # number of its own. Name the rewritten entry as the full check does.
            try:
                _full_check(store, memo.head)
            except ChainError as rewritten:
                raise UnverifiedLedger(store.location, rewritten) from rewritten
        raise UnverifiedLedger(store.location, e) from e
    digest = (whole or before).hexdigest()
    write_memo(path, Memo(head=head, mark=at, prefix=Prefix(offset, digest, head)))


def _full_check(store: DirStore, known: Head | None) -> NoReturn:
    """The bytes verified here earlier changed: find and name the first bad entry."""
    head, segments = store.snapshot()
    verifier = Verifier(store.read_object, known=known)
    for segment in segments:
        for _ in verifier.entries(segment):
            pass
    verifier.finish(head)
    raise ChainError(
        1,
        str(store.path / "entries.jsonl"),
        "the entries verified here earlier were rewritten (their bytes changed)",
    )


def _since(store: GitStore, memo: Memo, at: str) -> tuple[Head | None] | None:
    """Verify only the entry files added since the memo's commit (the others are the very
    blobs verified then); None when that commit is gone and everything must be read."""
    added = history.added_only(store, memo.mark, at)
    if added is None:
        return None
    view = GitStore(store.root, store.branch, at=at)
    head = view.head()
    paths = sorted(p for p in added if p.startswith("entries/"))
    with view.object_reader() as cat, CatFile(store.root, prefix=f"{at}:") as blobs:
        verifier = Verifier(cat.read_object, start=memo.head, known=memo.head)
        for path in paths:
            data = blobs.read(path)
            if data is None:
                raise ChainError(0, f"{store.branch}:{path}", "listed but its blob is missing")
            for _ in verifier.entries(Segment(where=f"{store.branch}:{path}", data=data)):
                pass
        verifier.finish(head)
    return (head,)


def _unchecked(store: Store) -> Iterator[Entry]:
    _, segments = store.snapshot()
    yield from _parsed(segments)


def _parsed(segments: Iterator[Segment]) -> Iterator[Entry]:
    for segment in segments:
        for offset, raw in enumerate(segment.data.splitlines()):
            yield parse(raw, f"{segment.where} line {segment.first_line + offset}")


def _pg_mark(at: Head | None, rows: Rows) -> str:
    """The memo's mark of a PostgreSQL chain: the entry its rows end with as verified here
    (seq and hash), the digest of those rows, how many rows came after them, the head row."""
    return f"pg2:{rows.upto}:{at.hash if at else ''}:{rows.digest}:{rows.beyond}:{rows.head}"


def _pg_parse(mark: str) -> tuple[Head | None, Rows] | None:
    parts = mark.split(":")
    if len(parts) != 6 or parts[0] != "pg2":
        return None  # no memo, or one from before this mark (`pg:`): a full check
    try:
        upto, beyond = int(parts[1]), int(parts[4])
    except ValueError:
        return None
    at = Head(seq=upto, hash=parts[2]) if upto else None
    return at, Rows(upto=upto, digest=parts[3], beyond=beyond, head=parts[5])


def _pg(
    store: PgStore, memo: Memo | None, path: Path | None, *, read: bool
) -> Generator[Entry, None, Head | None]:
    """A PostgreSQL chain checked in one REPEATABLE READ snapshot, which also gives the mark
    (so that the memo never names rows that were not verified, nor the entries read differ
    from the rows marked); yields the entries when `read`, returns the verified head.

    * Steady state: the memo's rows (the digest of every row's seq, xmin and ctid up to the
      entry verified here), no row after them and the head row unchanged: nothing is hashed.
    * After an append: the rows up to the remembered entry are unchanged and that entry still
      hashes as remembered: only the rows after it are verified.
    * Otherwise every entry is verified (the remembered one must still be there, unchanged)."""
    with store.pinned() as pin:
        head = pin.head
        last = head.seq if head else 0
        known = memo.head if memo is not None else None
        found = _pg_parse(memo.mark) if memo is not None else None
        upto = found[1].upto if found is not None else last
        then, now = pin.marks(upto, last)
        try:
            if found is not None and (then, known) == (found[1], head) and upto == last:
                if read:
                    yield from _parsed(pin.segments())
                return head
            start = _pg_start(pin, found, then) if found is not None else None
            if start is not None and found is not None:
                remembered = found[0]
                if read:
                    yield from _parsed(pin.segments(upto=start[1]))
                verifier = Verifier(pin.read_object, start=start[0], known=known)
                for segment in pin.segments(after=start[1]):
                    for entry in verifier.entries(segment):
                        if remembered is not None and entry.seq == upto != 0:
                            if entry.hash != remembered.hash:
                                raise _rewritten(store, upto, remembered, entry.hash)
                        if read:
                            yield entry
            else:
                verifier = Verifier(pin.read_object, known=known)
                for segment in pin.segments():
                    for entry in verifier.entries(segment):
                        if read:
                            yield entry
            verifier.finish(head)
        except ChainError as e:
            raise UnverifiedLedger(store.location, e) from e
        write_memo(path, Memo(head=head, mark=_pg_mark(head, now)))
        return head


def _pg_start(
    pin: Pinned, found: tuple[Head | None, Rows], then: Rows
) -> tuple[Head | None, int] | None:
    """Where to start verifying after an append: (the entry before the first row to verify,
    the seq of that entry); None when the rows verified here changed (a full check)."""
    at, rows = found
    if then.digest != rows.digest:
        return None
    if at is None:
        return None, 0
    # The remembered entry is verified again (its hash recomputed): the first row after it
    # must link to the hash remembered, and it must still hash to that itself.
    raw = pin.raw(at.seq)
    if raw is None:
        return None
    prev = parse(raw, f"{pin.store.repo} entries row {at.seq}").prev
    return Head(seq=at.seq - 1, hash=prev), at.seq - 1


def _rewritten(store: PgStore, seq: int, at: Head, now: str) -> ChainError:
    return ChainError(
        seq,
        f"{store.repo} entries row {seq}",
        f"entry {seq} was verified here earlier as {at.hash[:12]}… and now reads {now[:12]}…: "
        "the ledger was rewritten from there on",
    )


def _drain(gen: Generator[Entry, None, Head | None]) -> Head | None:
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            head: Head | None = stop.value
            return head


def pg_verify(
    store: PgStore, memo: Memo | None, path: Path | None, visit: Callable[[Segment], object] | None
) -> VerifyReport:
    """`ledger verify` of a PostgreSQL chain: every entry and artifact, and the memo's mark,
    in one snapshot."""
    with store.pinned() as pin:
        head = pin.head
        known = memo.head if memo is not None else None
        report = verify_chain(
            pin.segments(), pin.read_object, head, known=known, reread=True, visit=visit
        )
        last = head.seq if head else 0
        _, now = pin.marks(last, last)
    write_memo(path, Memo(head=head, mark=_pg_mark(head, now)))
    return report


def appended(store: Store, head: Head) -> None:
    """After our own append onto a verified head: remember the new head (and, for a directory,
    the verified prefix, which the append left as it was: only bytes after it were added)."""
    written = store.written if isinstance(store, (GitStore, DirStore)) else ""
    path = memo_path(store)
    before = read_memo(path) if isinstance(store, (DirStore, PgStore)) else None
    prefix = before.prefix if before is not None else None
    if isinstance(store, PgStore) and before is not None and _pg_parse(before.mark):
        # The rows verified here are as they were: the next check verifies the rows after them
        # (ours included) and must find the new head there.
        written = before.mark
    write_memo(path, Memo(head=head, mark=written, prefix=prefix))


@contextlib.contextmanager
def _reader(store: Store) -> Iterator[ObjectReader]:
    if isinstance(store, GitStore):
        with store.object_reader() as cat:
            yield cat.read_object
    else:
        yield store.read_object
