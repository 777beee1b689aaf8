"""A central ledger on PostgreSQL (psycopg 3): one hash chain per repository name.

Entries are stored as the very bytes the git store keeps (`Entry.raw`, as bytea) and verified by
hashing those bytes (`chain.verify`), so a ledger moves between git and PostgreSQL with the same
hashes. An append is one transaction: lock the repository's `heads` row (`SELECT … FOR UPDATE`),
compare it with the head the entries were chained on (else HeadMoved), insert the artifacts
(`ON CONFLICT DO NOTHING`: stored once for the whole organisation), COPY the entries, move the
head. Concurrent writers to one repository queue on that row lock; no entry is lost or forked.
Reading is one REPEATABLE READ snapshot (`snapshot`, `pinned`): head, entries and the mark that
`ledger.trust` remembers (`Pinned.marks`: a digest of every row's seq, `xmin` and `ctid`, which
any row written by any transaction changes) all describe the same state.
The schema and its least-privilege roles are described in `pgschema`.
"""

from __future__ import annotations

import re
import struct
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sdl_tracker.errors import HeadMoved, LedgerError
from sdl_tracker.ledger import pgschema
from sdl_tracker.ledger.chain import GENESIS, Entry, Head, Segment
from sdl_tracker.ledger.store import FileObject, Object, copy

if TYPE_CHECKING:
    import psycopg

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+/-]{0,199}$")
_FETCH = 5000
_LAST = 2**63 - 1


@dataclass(frozen=True)
class Chain:
    """One repository's chain in a central ledger, as `repositories()` lists them."""

    repo: str
    head: Head | None


def check_name(name: str) -> str:
    """A repository name usable as a chain key, or LedgerError saying what is allowed."""
    if not _NAME.match(name):
        raise LedgerError(
            f"repository name {name!r} is not usable in a central ledger: use 1-200 letters, "
            "digits and . _ @ + / - (starting with a letter or digit); set it with "
            "--repo-name NAME, SDL_TRACKER_REPO_NAME or [ledger] repo_name"
        )
    return name


class PgStore:
    """The chain of repository `repo` in the PostgreSQL database at `url`."""

    def __init__(self, url: str, repo: str) -> None:
        self.url = url
        self.repo = check_name(repo)
        self._connection: psycopg.Connection[Any] | None = None
        self._ready = False

    @property
    def location(self) -> str:
        return f"PostgreSQL ledger {pgschema.redact(self.url)} repository {self.repo}"

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _conn(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            conn = pgschema.connect(self.url)
            weakref.finalize(self, conn.close)
            self._connection = conn
            self._ready = False
        return self._connection

    @contextmanager
    def _session(self, action: str, *, create: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """A connection whose schema is current; psycopg errors become LedgerError."""
        import psycopg

        try:
            conn = self._conn()
            if create or not self._ready:
                version = pgschema.installed(conn, self.location)
                if version is None and not create:
                    raise LedgerError(self._no_schema())
                if version != pgschema.VERSION:
                    self._migrate(conn, version)
                self._ready = True
            yield conn
        except psycopg.errors.InsufficientPrivilege as e:
            raise LedgerError(
                f"{self.location}: {action}: {_text(e)}. The database role lacks the privilege: "
                "use the owner role for `init`/`ledger push`, the appender role for appends "
                "(see docs/concepts/ledger.md, 'A central ledger on PostgreSQL')"
            ) from e
        except psycopg.Error as e:
            raise LedgerError(f"{self.location}: {action} failed: {_text(e)}") from e

    def _migrate(self, conn: psycopg.Connection[Any], version: int | None) -> None:
        import psycopg

        try:
            pgschema.migrate(conn, self.location)
        except psycopg.errors.InsufficientPrivilege as e:
            raise LedgerError(
                f"{self.location}: the ledger schema is version {version or 'missing'} and this "
                f"role may not create or upgrade it to {pgschema.VERSION} ({_text(e)}): run "
                "`sdl-tracker init --ledger URL` once as the database owner"
            ) from e

    def _no_schema(self) -> str:
        return (
            f"no sdl-tracker ledger in {pgschema.redact(self.url)} (schema sdl_tracker is "
            "missing): create it with `sdl-tracker init --ledger URL`, or copy a repository's "
            "ledger there with `sdl-tracker ledger push --to URL`"
        )

    def _missing(self, conn: psycopg.Connection[Any]) -> LedgerError:
        rows = conn.execute("SELECT repo FROM sdl_tracker.heads ORDER BY repo LIMIT 11").fetchall()
        known = ", ".join(str(r[0]) for r in rows[:10]) + (", …" if len(rows) > 10 else "")
        return LedgerError(
            f"no chain for repository {self.repo!r} in {pgschema.redact(self.url)} "
            f"(known: {known or 'none'}): pass --repo-name NAME for another one, or copy this "
            "repository's ledger there with `sdl-tracker ledger push --to URL` (or create an "
            "empty chain with `sdl-tracker init --ledger URL`)"
        )

    def exists(self) -> bool:
        import psycopg

        try:
            version = pgschema.installed(self._conn(), self.location)
        except psycopg.Error as e:
            raise LedgerError(f"{self.location}: reading the schema failed: {_text(e)}") from e
        if version is None:
            return False
        with self._session("reading the head") as conn:
            row = conn.execute(
                "SELECT 1 FROM sdl_tracker.heads WHERE repo = %s", (self.repo,)
            ).fetchone()
        return row is not None

    def create(self) -> bool:
        with self._session("creating the chain", create=True) as conn:
            cur = conn.execute(
                "INSERT INTO sdl_tracker.heads (repo, seq, hash) VALUES (%s, 0, %s) "
                "ON CONFLICT (repo) DO NOTHING",
                (self.repo, GENESIS),
            )
            return cur.rowcount == 1

    def head(self) -> Head | None:
        with self._session("reading the head") as conn:
            return self._head(conn, lock=False)

    def _head(self, conn: psycopg.Connection[Any], *, lock: bool) -> Head | None:
        query = "SELECT seq, hash FROM sdl_tracker.heads WHERE repo = %s"
        row = conn.execute(query + (" FOR UPDATE" if lock else ""), (self.repo,)).fetchone()
        if row is None:
            raise self._missing(conn)
        return Head(seq=int(row[0]), hash=str(row[1])) if row[0] else None

    def append(
        self, entries: Sequence[Entry], objects: Mapping[str, Object], *, expected: Head | None
    ) -> None:
        if not entries:
            return
        first = entries[0]
        if (first.seq, first.prev) != (
            (expected.seq + 1, expected.hash) if expected else (1, GENESIS)
        ):
            raise LedgerError(f"{self.location}: entry {first.seq} is not chained on {expected}")
        import psycopg

        with self._session("appending") as conn:
            try:
                with conn.transaction():
                    head = self._head(conn, lock=True)
                    if head != expected:
                        raise HeadMoved(
                            f"{self.location}: head moved to {head}, expected {expected}"
                        )
                    self._insert(conn, entries, objects)
            except psycopg.errors.UniqueViolation as e:
                raise LedgerError(
                    f"{self.location}: entry {first.seq} or a later one is already stored beyond "
                    "the head: the ledger was changed outside sdl-tracker; run "
                    "`sdl-tracker ledger verify`"
                ) from e

    def _insert(
        self, conn: psycopg.Connection[Any], entries: Sequence[Entry], objects: Mapping[str, Object]
    ) -> None:
        # Sorted, so that writers sharing artifacts take their locks in one order.
        small = sorted((k, v) for k, v in objects.items() if isinstance(v, bytes))
        files = sorted((k, v) for k, v in objects.items() if isinstance(v, FileObject))
        with conn.cursor() as cur:
            if small:
                cur.executemany(
                    "INSERT INTO sdl_tracker.objects (sha256, data) VALUES (%s, %s) "
                    "ON CONFLICT (sha256) DO NOTHING",
                    small,
                )
            for sha, blob in files:
                _stream_object(conn, sha, blob)
            with cur.copy(
                "COPY sdl_tracker.entries (repo, seq, hash, raw) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "int8", "text", "bytea"])
                for e in entries:
                    copy.write_row((self.repo, e.seq, e.hash, e.raw))
            last = entries[-1]
            cur.execute(
                "UPDATE sdl_tracker.heads SET seq = %s, hash = %s WHERE repo = %s",
                (last.seq, last.hash, self.repo),
            )

    def witness(
        self, *, direction: str, seq: int, central_hash: str, other_hash: str, other: str
    ) -> None:
        """Record in `refusals` that a push or pull was refused: the chain and `other` (a
        repository's ledger) differ at entry `seq`. Committed on its own, whatever follows."""
        with self._session("recording the refused copy") as conn:
            conn.execute(
                "INSERT INTO sdl_tracker.refusals "
                "(repo, direction, seq, central_hash, other_hash, other) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (self.repo, direction, seq, central_hash, other_hash, other),
            )

    def snapshot(self) -> tuple[Head | None, Iterator[Segment]]:
        """Head and entries read in one REPEATABLE READ transaction on a connection of its own."""
        pin = self._pin()
        segments = pin.segments(close=True)
        weakref.finalize(segments, pin.close)
        return pin.head, segments

    @contextmanager
    def pinned(self) -> Iterator[Pinned]:
        """One REPEATABLE READ snapshot, for the mark and the entries alike: a row committed
        while it is open is seen by neither (`ledger.trust` verifies what it marks)."""
        pin = self._pin()
        try:
            yield pin
        finally:
            pin.close()

    def _pin(self) -> Pinned:
        import psycopg

        with self._session("reading the ledger"):
            pass
        conn = pgschema.connect(self.url)
        try:
            conn.autocommit = False
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            # Read in primary-key order even before ANALYZE has run (a fresh push): without
            # statistics the planner may sort every page on disk instead, 3-4 times slower.
            conn.execute("SET LOCAL enable_sort = off")
            # The snapshot is taken by this first query: the head and every later read see it.
            row = conn.execute(
                "SELECT seq, hash, xmin::text, ctid::text FROM sdl_tracker.heads WHERE repo = %s",
                (self.repo,),
            ).fetchone()
            if row is None:
                raise self._missing(conn)
        except LedgerError:
            conn.close()
            raise
        except psycopg.Error as e:
            conn.close()
            raise LedgerError(f"{self.location}: reading the ledger failed: {_text(e)}") from e
        head = Head(seq=int(row[0]), hash=str(row[1])) if row[0] else None
        return Pinned(self, conn, head, "/".join(str(v) for v in row))

    def read_object(self, sha256: str) -> bytes | None:
        with self._session("reading an artifact") as conn:
            row = conn.execute(
                "SELECT data FROM sdl_tracker.objects WHERE sha256 = %s", (sha256,), binary=True
            ).fetchone()
        return bytes(row[0]) if row else None

    def repositories(self) -> list[Chain]:
        """Every chain in the database, by repository name."""
        with self._session("listing repositories") as conn:
            rows = conn.execute("SELECT repo, seq, hash FROM sdl_tracker.heads ORDER BY repo")
            return [
                Chain(repo=str(r), head=Head(seq=int(s), hash=str(h)) if s else None)
                for r, s, h in rows
            ]


@dataclass(frozen=True)
class Rows:
    """A chain's rows as one snapshot sees them, up to entry `upto` (see `Pinned.marks`)."""

    upto: int
    digest: str
    """SHA-256 over `seq xmin ctid` of every row with seq <= upto, in seq order."""
    beyond: int
    """How many rows have a seq above `upto`."""
    head: str
    """The `heads` row: seq/hash/xmin/ctid."""


class Pinned:
    """A chain read in one REPEATABLE READ snapshot (`PgStore.pinned`): its head, the mark of
    its rows and its entries all come from the same state."""

    def __init__(
        self, store: PgStore, conn: psycopg.Connection[Any], head: Head | None, row: str
    ) -> None:
        self.store = store
        self.conn = conn
        self.head = head
        self.head_row = row

    def close(self) -> None:
        self.conn.close()

    def marks(self, upto: int, also: int) -> tuple[Rows, Rows]:
        """The rows up to entry `upto` and up to entry `also`, in one pass over the chain.

        Every write of a row, whoever makes it and with the triggers disabled or not, leaves a
        new row version stamped with the writing transaction's id (`xmin`), which cannot be the
        id of the transaction that wrote the row verified here (that one ended), and at a
        place (`ctid`) of its own while the old version is still there: an UPDATE (even one
        writing the same bytes, even by a transaction older than the newest row), a DELETE and
        re-INSERT. So the digest of `seq xmin ctid` changes with any write; it also changes
        when the table is rewritten (VACUUM FULL, CLUSTER, a dump restored), which only costs
        one full check."""
        import psycopg

        row = "convert_to(seq::text || ' ' || xmin::text || ' ' || ctid::text || ';', 'UTF8')"
        agg = (
            f"sha256(coalesce(string_agg({row}, ''::bytea ORDER BY seq) "
            "FILTER (WHERE seq <= %s), ''::bytea))"
        )
        try:
            found = self.conn.execute(
                f"SELECT count(*) FILTER (WHERE seq > %s), {agg}, "  # noqa: S608 (no input)
                f"count(*) FILTER (WHERE seq > %s), {agg if also != upto else 'NULL'} "
                "FROM sdl_tracker.entries WHERE repo = %s",
                (upto, upto, also, *((also,) if also != upto else ()), self.store.repo),
            ).fetchone()
        except psycopg.Error as e:
            raise LedgerError(f"{self.store.location}: reading entries failed: {_text(e)}") from e
        assert found is not None  # an aggregate without GROUP BY: always one row
        first = Rows(upto, bytes(found[1]).hex(), int(found[0]), self.head_row)
        if also == upto:
            return first, first
        return first, Rows(also, bytes(found[3]).hex(), int(found[2]), self.head_row)

    def raw(self, seq: int) -> bytes | None:
        """The stored bytes of entry `seq` (None when there is no such row)."""
        import psycopg

        try:
            row = self.conn.execute(
                "SELECT raw FROM sdl_tracker.entries WHERE repo = %s AND seq = %s",
                (self.store.repo, seq),
                binary=True,
            ).fetchone()
        except psycopg.Error as e:
            raise LedgerError(f"{self.store.location}: reading entries failed: {_text(e)}") from e
        return bytes(row[0]) if row else None

    def read_object(self, sha256: str) -> bytes | None:
        import psycopg

        try:
            row = self.conn.execute(
                "SELECT data FROM sdl_tracker.objects WHERE sha256 = %s", (sha256,), binary=True
            ).fetchone()
        except psycopg.Error as e:
            raise LedgerError(
                f"{self.store.location}: reading an artifact failed: {_text(e)}"
            ) from e
        return bytes(row[0]) if row else None

    def segments(
        self, *, after: int = 0, upto: int | None = None, close: bool = False
    ) -> Iterator[Segment]:
        """Pages of the entries with after < seq <= upto by seq (keyset: `seq > last … LIMIT`,
        so the primary key's order is used whatever the planner's statistics say); the first
        is counted as row `after + 1`. `close`: close the connection at the end."""
        import psycopg

        where = f"{self.store.repo} entries row"
        row, last = after + 1, after
        end = _LAST if upto is None else upto
        try:
            with self.conn.cursor(binary=True) as cur:
                while True:
                    cur.execute(
                        "SELECT seq, raw FROM sdl_tracker.entries WHERE repo = %s AND seq > %s "
                        "AND seq <= %s ORDER BY repo, seq LIMIT %s",
                        (self.store.repo, last, end, _FETCH),
                    )
                    rows = cur.fetchall()
                    if not rows:
                        break
                    data = b"\n".join([r[1] for r in rows])
                    yield Segment(where=where, data=data + b"\n", first_line=row)
                    row, last = row + len(rows), rows[-1][0]
        except psycopg.Error as e:
            raise LedgerError(f"{self.store.location}: reading entries failed: {_text(e)}") from e
        finally:
            if close:
                self.conn.close()


def _text(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


# COPY's binary format: signature, flags, header extension length; the end-of-data marker.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


def _stream_object(conn: psycopg.Connection[Any], sha256: str, blob: FileObject) -> None:
    """Store a file's bytes as one `objects` row through COPY (binary), sent in pieces: the
    client holds one piece at a time (the server still builds the whole bytea value)."""
    import psycopg

    if conn.execute("SELECT 1 FROM sdl_tracker.objects WHERE sha256 = %s", (sha256,)).fetchone():
        return
    try:
        with conn.transaction(), conn.cursor() as cur:  # a savepoint: a lost race is no error
            with cur.copy(
                "COPY sdl_tracker.objects (sha256, data) FROM STDIN (FORMAT BINARY)"
            ) as cp:
                key = sha256.encode()
                cp.write(
                    _COPY_HEADER
                    + struct.pack("!hi", 2, len(key))
                    + key
                    + struct.pack("!i", blob.size)
                )
                for chunk in copy(sha256, blob):
                    cp.write(chunk)
                cp.write(_COPY_TRAILER)
    except psycopg.errors.UniqueViolation:
        pass  # another writer stored the same bytes meanwhile
