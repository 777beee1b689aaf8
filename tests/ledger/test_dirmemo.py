"""The directory store's incremental check: the entry file's prefix verified here is hashed in
one pass, only the lines appended since are verified entry by entry, and any change to the
prefix is still named entry by entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import UnverifiedLedger
from sdl_tracker.ledger import chain, trust
from sdl_tracker.ledger.dirstore import DirStore

FAIL, PASS = b'"status":"fail"', b'"status":"pass"'


@pytest.fixture
def store(tmp_path: Path) -> DirStore:
    made = DirStore(tmp_path / "ledger")
    made.create()
    _other_writer(made, 1)
    _other_writer(made, 2)
    assert [e.seq for e in ledger.entries(made)] == [1, 2]  # the first check: the full one
    return made


def _other_writer(store: DirStore, i: int, objects: dict[str, bytes] | None = None) -> None:
    """An append by a process that neither checks nor updates this machine's memo."""
    head = store.head()
    art = []
    if objects:
        art = [ledger.artifact("r.json", next(iter(objects.values())))[0]]
    sealed = chain.seal(head, [make_statement(i, art)])
    DirStore(store.path).append(sealed, objects or {}, expected=head)


def _file(store: DirStore) -> Path:
    return store.path / "entries.jsonl"


def test_the_memo_remembers_the_verified_prefix(store: DirStore) -> None:
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None and memo.prefix is not None
    assert memo.prefix.size == _file(store).stat().st_size
    assert memo.prefix.head == store.head()
    _other_writer(store, 3)
    assert [e.seq for e in ledger.entries(store)] == [1, 2, 3]
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None and memo.prefix is not None and memo.head == store.head()
    assert memo.prefix.size == _file(store).stat().st_size


def test_our_own_append_keeps_the_prefix_it_did_not_touch(store: DirStore) -> None:
    before = trust.read_memo(trust.memo_path(store))
    ledger.append(store, [make_statement(3)])
    after = trust.read_memo(trust.memo_path(store))
    assert before is not None and after is not None
    assert after.prefix == before.prefix and after.head == store.head()
    _other_writer(store, 4)
    assert [e.seq for e in ledger.entries(store)] == [1, 2, 3, 4]


def test_an_edit_inside_the_verified_prefix_is_named(store: DirStore) -> None:
    """Entry 1 edited in place (same length, hash left), then another writer appends: the
    prefix no longer hashes as remembered, and the full check names entry 1."""
    data = _file(store).read_bytes()
    assert PASS in data
    _file(store).write_bytes(data.replace(PASS, FAIL, 1))
    _other_writer(store, 3)
    with pytest.raises(UnverifiedLedger, match=r"entry 1 \(.*hash does not match its content"):
        list(ledger.entries(store))
    with pytest.raises(UnverifiedLedger):
        ledger.append(store, [make_statement(4)])


def test_an_edit_after_the_prefix_and_a_missing_new_artifact_are_named(
    store: DirStore,
) -> None:
    _other_writer(store, 3)
    data = _file(store).read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    _file(store).write_bytes(data.replace(last, last.replace(PASS, FAIL), 1))
    with pytest.raises(UnverifiedLedger, match=r"entry 3 \(.*hash does not match its content"):
        list(ledger.entries(store))


def test_the_artifact_of_an_appended_entry_is_read(store: DirStore) -> None:
    art, data = ledger.artifact("r.json", b'{"run": 3}')
    _other_writer(store, 3, {art.sha256: data})
    (store.path / "objects" / art.sha256[:2] / art.sha256[2:]).write_bytes(b"{}")
    with pytest.raises(UnverifiedLedger, match="entry 3"):
        list(ledger.entries(store))
