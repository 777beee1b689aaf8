"""The memo of a PostgreSQL chain against a real throw-away cluster: what its mark must notice.

The threat is a role with UPDATE/DELETE/INSERT rights on the ledger's tables and the triggers
disabled (`session_replication_role = replica`, as a superuser can): every row it writes is a
new row version, and the mark (computed in the same REPEATABLE READ snapshot as the entries
read) must change with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import UnverifiedLedger
from sdl_tracker.ledger import pgstore, trust
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.pgstore import PgStore

from .conftest import superuser
from .pgcluster import Cluster

FORGE = (
    "UPDATE sdl_tracker.entries SET raw = overlay(raw placing 'X'::bytea from 400) WHERE seq = 4"
)


def _store(url: str, count: int) -> PgStore:
    store = PgStore(url, "demo")
    store.create()
    _append(store, count)
    return store


def _append(store: PgStore, count: int, *, batch: int = 1) -> None:
    for first in range(0, count, batch):
        ledger.append(store, [make_statement(i) for i in range(first, min(first + batch, count))])


@contextmanager
def _forger(cluster: Cluster, db: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection with the triggers off, committing each statement."""
    with superuser(cluster, db) as conn:
        conn.execute("SET session_replication_role = replica")
        yield conn


def _raws(store: PgStore) -> list[bytes]:
    return [e.raw for e in ledger.entries(store)]


def test_an_update_by_an_older_transaction_is_detected(pg_cluster: Cluster, pg_db: str) -> None:
    """Hole 1: the forging transaction took its id before a later append, so its row version is
    older than the newest one: head, row count and max(xmin) all stay as they were."""
    url = pg_cluster.url(pg_db)
    store = _store(url, 10)
    with psycopg.connect(url) as older:  # a transaction, not autocommit
        older.execute("SET session_replication_role = replica")
        older.execute("SELECT txid_current()")  # its transaction id, taken now
        _append(store, 1)  # a newer transaction: the newest row version is now this one
        assert trust.check(store) is not None  # verified here, the memo names this state
        assert older.execute(FORGE).rowcount == 1
        older.commit()
    with pytest.raises(UnverifiedLedger, match="entry 4 .*hash does not match"):
        trust.check(store)
    with pytest.raises(UnverifiedLedger, match="entry 4 "):
        _raws(store)


Seam = Callable[[pytest.MonkeyPatch, Callable[[], None]], None]


def _once_before(name: str, monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` once, inside the snapshot, just before `Pinned.<name>` is first called."""
    original = getattr(pgstore.Pinned, name)

    def first(self: pgstore.Pinned, *args: Any, **kwargs: Any) -> Any:
        act()
        monkeypatch.setattr(pgstore.Pinned, name, original)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pgstore.Pinned, name, first)


def _before_reading(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` once, inside the snapshot, just before entries are read (after the mark)."""
    _once_before("segments", monkeypatch, act)


def _before_marking(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` once, inside the snapshot, just before the mark is computed (for `ledger verify`
    after every entry was read; for a check, after the head was read)."""
    _once_before("marks", monkeypatch, act)


@pytest.mark.parametrize("seam", [_before_reading, _before_marking])
@pytest.mark.parametrize("how", ["check", "entries", "verify"])
def test_a_forgery_between_the_mark_and_the_read_is_neither_believed_nor_forgotten(
    pg_cluster: Cluster, pg_db: str, monkeypatch: pytest.MonkeyPatch, seam: Seam, how: str
) -> None:
    """Hole 2: the mark and the entries come from one snapshot. A row forged and committed
    between the two reads is in neither: this read returns the genuine bytes, and the memo it
    writes does not describe the forged state, so the next check finds it."""
    url = pg_cluster.url(pg_db)
    store = _store(url, 10)
    genuine = _raws(store)  # verified: the memo names this state (the steady state follows)
    _append(store, 1)  # and one more, so that the next read is an incremental check
    genuine = _raws(store)
    _append(store, 1)
    fired: list[bool] = []

    def forge() -> None:
        with _forger(pg_cluster, pg_db) as conn:
            assert conn.execute(FORGE).rowcount == 1
        fired.append(True)

    seam(monkeypatch, forge)
    if how == "check":
        assert trust.check(store) == store.head()
    elif how == "entries":
        read = _raws(store)
        assert read[:11] == genuine and len(read) == 12
    else:
        assert ledger.verify(PgStore(url, "demo")).entries == 12
    assert fired
    with pytest.raises(UnverifiedLedger, match="entry 4 "):
        trust.check(store)


def test_a_forgery_between_the_steady_mark_and_the_read_is_not_believed(
    pg_cluster: Cluster, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hole 2 in the steady state: the memo names the current mark, so the entries are read
    unchecked; they must be the rows of the snapshot the mark was computed in."""
    url = pg_cluster.url(pg_db)
    store = _store(url, 10)
    genuine = _raws(store)
    assert _raws(store) == genuine  # the steady state

    def forge() -> None:
        with _forger(pg_cluster, pg_db) as conn:
            assert conn.execute(FORGE).rowcount == 1

    _before_reading(monkeypatch, forge)
    assert _raws(store) == genuine
    with pytest.raises(UnverifiedLedger, match="entry 4 "):
        _raws(store)


def test_the_steady_state_skips_the_check(
    pg_cluster: Cluster, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_cluster.url(pg_db)
    store = _store(url, 10)
    genuine = _raws(store)
    hashed = _count_hashed(monkeypatch)
    assert _raws(store) == genuine and trust.check(store) == store.head()
    assert hashed == []


def _count_hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The seq of every entry the chain's Verifier hashes from now on."""
    from sdl_tracker.ledger import chain

    hashed: list[int] = []
    original = chain.Verifier.entries

    def entries(self: chain.Verifier, segment: chain.Segment) -> Iterator[chain.Entry]:
        for entry in original(self, segment):
            hashed.append(entry.seq)
            yield entry

    monkeypatch.setattr(chain.Verifier, "entries", entries)
    return hashed


@pytest.mark.parametrize("ours", [True, False], ids=["own-append", "another-writer"])
def test_after_an_append_only_the_new_rows_are_verified(
    pg_cluster: Cluster, pg_db: str, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    url = pg_cluster.url(pg_db)
    store = _store(url, 10)
    assert trust.check(store) is not None
    writer = store if ours else PgStore(url, "demo")
    if not ours:
        # Another machine's append: this machine's memo stays where it was.
        path = trust.memo_path(store)
        assert path is not None
        kept = path.read_bytes()
        _append(writer, 3, batch=3)
        path.write_bytes(kept)
    else:
        _append(writer, 3, batch=3)
    hashed = _count_hashed(monkeypatch)
    read = _raws(store)
    # The remembered entry 10 is hashed again (it must still hash as remembered), then the new.
    assert len(read) == 13 and hashed == [10, 11, 12, 13]
    hashed.clear()
    assert trust.check(store) == store.head() and hashed == []  # and then the steady state


@pytest.mark.parametrize(
    "sql",
    [
        FORGE,
        "UPDATE sdl_tracker.entries SET raw = raw WHERE seq = 2",  # the same bytes, rewritten
        "DELETE FROM sdl_tracker.entries WHERE seq = 7",
        "INSERT INTO sdl_tracker.entries (repo, seq, hash, raw) "
        "SELECT repo, 11, hash, raw FROM sdl_tracker.entries WHERE seq = 10",
        "UPDATE sdl_tracker.heads SET hash = hash",  # the head row rewritten as it was
        "UPDATE sdl_tracker.heads SET seq = 9, hash = (SELECT hash FROM sdl_tracker.entries "
        "WHERE seq = 9)",
    ],
    ids=["update", "same-bytes", "delete", "insert", "head-same", "head-rewound"],
)
@pytest.mark.parametrize("appended", [False, True], ids=["steady", "appended"])
def test_any_row_written_is_noticed(
    pg_cluster: Cluster, pg_db: str, monkeypatch: pytest.MonkeyPatch, sql: str, appended: bool
) -> None:
    """Every row version written behind the tool's back makes the mark differ: the next
    check is not skipped (a rewrite of the very same bytes is then verified and found intact;
    anything else is refused)."""
    url = pg_cluster.url(pg_db)
    store = _store(url, 10)
    assert trust.check(store) is not None
    if appended:
        _append(PgStore(url, "demo"), 1)  # our own append: the memo moves with it
        sql = sql.replace("seq = 10", "seq = 11").replace("11, hash", "12, hash")
    with _forger(pg_cluster, pg_db) as conn:
        assert conn.execute(sql).rowcount == 1
    hashed = _count_hashed(monkeypatch)
    if "raw = raw" in sql or "hash = hash" in sql:
        assert trust.check(store) == store.head()
        assert hashed  # not skipped: the rows were checked again
        hashed.clear()
        assert trust.check(store) == store.head() and hashed == []
        return
    with pytest.raises(UnverifiedLedger):
        trust.check(store)


def test_ledger_verify_writes_the_memo(pg_cluster: Cluster, pg_db: str) -> None:
    url = pg_cluster.url(pg_db)
    store = _store(url, 5)
    path = trust.memo_path(store)
    assert path is not None
    path.unlink()
    report = ledger.verify(PgStore(url, "demo"))
    memo = trust.read_memo(path)
    assert memo is not None and memo.head == report.head == store.head()
    assert memo.mark.startswith("pg2:5:")
    assert isinstance(memo.head, Head)
