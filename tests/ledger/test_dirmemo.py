"""The directory store's incremental check: the entry file's prefix verified here is hashed in
one pass, only the lines appended since are verified entry by entry, and any change to the
prefix is still named entry by entry."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import UnverifiedLedger
from sdl_tracker.ledger import chain, trust
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.models import ResultStatus

FAIL, PASS = b'"status":"fail"', b'"status":"pass"'


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's memos live in the user's cache: a home of the test's own."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return tmp_path / "home"


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


def test_the_memo_lives_outside_the_directory(store: DirStore, home: Path) -> None:
    path = trust.memo_path(store)
    assert path is not None and path.is_file() and path.is_relative_to(home)
    assert not path.is_relative_to(store.path)
    assert not (store.path / "verified").exists()


def test_the_memo_follows_an_absolute_xdg_cache_home(
    store: DirStore, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = trust.memo_path(store)
    assert default is not None and default.parent == home / ".cache" / "sdl-tracker"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    assert trust.memo_path(store) == default
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    moved = trust.memo_path(store)
    assert moved == tmp_path / "xdg" / "sdl-tracker" / default.name
    assert not moved.exists()
    assert [e.seq for e in ledger.entries(store)] == [1, 2]  # no memo there: a full check
    assert trust.read_memo(moved) == trust.read_memo(default)


def test_a_memo_forged_inside_the_directory_skips_nothing(store: DirStore) -> None:
    """Whoever can edit the directory edits entry 1 (hash left) and writes, where the memo used
    to live, one that names the current mark and the new prefix: the check still runs."""
    data = _file(store).read_bytes().replace(PASS, FAIL, 1)
    _file(store).write_bytes(data)
    head = store.head()
    assert head is not None
    forged = {
        "seq": head.seq,
        "hash": head.hash,
        "mark": store.mark(),
        "prefix": {
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "seq": head.seq,
            "hash": head.hash,
        },
    }
    (store.path / "verified").write_text(json.dumps(forged))
    with pytest.raises(UnverifiedLedger, match=r"entry 1 \(.*hash does not match its content"):
        list(ledger.entries(store))


def test_a_restore_of_the_whole_directory_is_a_rewind(store: DirStore, tmp_path: Path) -> None:
    """A backup of the whole directory taken at entry 2, restored after entry 3 was verified
    here: nothing in the directory can carry this machine's memo back with it."""
    backup = tmp_path / "backup"
    shutil.copytree(store.path, backup)
    ledger.append(store, [make_statement(3)])
    shutil.rmtree(store.path)
    shutil.copytree(backup, store.path)
    with pytest.raises(UnverifiedLedger, match="entry 3 .*verified here earlier.*rewound"):
        list(ledger.entries(store))


def test_a_prefix_that_no_longer_hashes_as_remembered_is_a_rewrite(store: DirStore) -> None:
    """Every entry still verifies but the first bytes do not hash as this machine remembers
    (here the memo's digest is wrong): the check fails, blaming entry 1 of the entry file, and
    reads the artifact of the entry appended since on the way."""
    path = trust.memo_path(store)
    memo = trust.read_memo(path)
    assert memo is not None and memo.prefix is not None
    bad = trust.Prefix(memo.prefix.size, "0" * 64, memo.prefix.head)
    trust.write_memo(path, trust.Memo(head=memo.head, mark=memo.mark, prefix=bad))
    _other_writer(store, 3, {hashlib.sha256(b"report").hexdigest(): b"report"})
    with pytest.raises(UnverifiedLedger) as e:
        list(ledger.entries(store))
    cause = e.value.__cause__
    assert isinstance(cause, chain.ChainError)
    assert (cause.seq, cause.where, cause.reason) == (
        1,
        str(_file(store)),
        "the entries verified here earlier were rewritten (their bytes changed)",
    )


def test_a_prefix_resealed_whole_names_the_entry_verified_earlier(store: DirStore) -> None:
    """Someone re-seals entries 1 and 2 with other results, same length (a valid chain, the
    head marker rewritten too): the entry verified here earlier is named."""
    resealed = chain.seal(None, [make_statement(i, status=ResultStatus.FAIL) for i in (1, 2)])
    data = b"".join(e.raw + b"\n" for e in resealed)
    _file(store).write_bytes(data)
    store._write_head(chain.Head(2, resealed[1].hash), len(data))
    with pytest.raises(UnverifiedLedger, match=r"entry 2 .*was verified here earlier as "):
        list(ledger.entries(store))


def test_a_prefix_rewritten_to_another_length_then_appended_to_names_the_rewrite(
    store: DirStore,
) -> None:
    """Entries 1 and 2 re-sealed at another length, then a writer appends entry 3 on top: the
    failure names the rewritten entry verified here earlier, not the appended line the old
    prefix's length now cuts in two."""
    old = _file(store).read_bytes()
    resealed = chain.seal(None, [make_statement(1000 + i) for i in (1, 2)])
    data = b"".join(e.raw + b"\n" for e in resealed)
    assert len(data) != len(old)
    _file(store).write_bytes(data)
    store._write_head(chain.Head(2, resealed[1].hash), len(data))
    _other_writer(store, 3)
    with pytest.raises(UnverifiedLedger, match=r"entry 2 .*was verified here earlier as "):
        list(ledger.entries(store))
