"""What this machine remembers as verified (the memo) and what it then reads without a check:
tests written for the mutants of ledger/trust.py's memo and read paths that the other ledger
tests let survive (benchmarks/mutation.sh; the survivors and the reasons for the rest are in
docs/testing.md)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, UnverifiedLedger
from sdl_tracker.ledger import chain, dirstore, trust
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.pgstore import PgStore

from . import tamper

SHA = hashlib.sha256(b"verified").hexdigest()
HEAD = Head(seq=7, hash="a" * 64)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's cache directory: an absolute XDG_CACHE_HOME of the test's own."""
    where = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(where))
    return where / "sdl-tracker"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _dir(tmp_path: Path, count: int) -> DirStore:
    store = DirStore(tmp_path / "ledger")
    store.create()
    for i in range(1, count + 1):
        ledger.append(store, [make_statement(i)])
    return store


def _branch(root: Path, count: int, branch: str = "sdl-ledger") -> GitStore:
    store = GitStore(root, branch)
    store.create()
    for i in range(1, count + 1):
        ledger.append(store, [make_statement(i)])
    return store


# The memo file: read back exactly as written, its form pinned, anything unreadable ignored.


@pytest.mark.parametrize(
    "memo",
    [
        trust.Memo(head=HEAD, mark="m1", prefix=trust.Prefix(300, SHA, HEAD)),
        trust.Memo(head=None, mark="m2", prefix=trust.Prefix(0, SHA, None)),
        trust.Memo(head=HEAD, mark="m3"),
        trust.Memo(head=None, mark=""),
    ],
)
def test_a_memo_is_read_back_as_written(tmp_path: Path, memo: trust.Memo) -> None:
    path = tmp_path / "memo"
    trust.write_memo(path, memo)
    assert trust.read_memo(path) == memo


def test_the_memo_file_names_each_field() -> None:
    """The memo's bytes are what another version of sdl-tracker reads: seq 0 and hash ""
    stand for no entry (never seq 1), the prefix only when there is one."""
    path = Path(os.environ["XDG_CACHE_HOME"]) / "form" / "memo"
    trust.write_memo(path, trust.Memo(head=HEAD, mark="m", prefix=trust.Prefix(9, SHA, None)))
    assert json.loads(path.read_bytes()) == {
        "seq": 7,
        "hash": "a" * 64,
        "mark": "m",
        "prefix": {"bytes": 9, "sha256": SHA, "seq": 0, "hash": ""},
    }
    trust.write_memo(path, trust.Memo(head=None, mark="n", prefix=trust.Prefix(3, SHA, HEAD)))
    assert json.loads(path.read_bytes()) == {
        "seq": 0,
        "hash": "",
        "mark": "n",
        "prefix": {"bytes": 3, "sha256": SHA, "seq": 7, "hash": "a" * 64},
    }
    trust.write_memo(path, trust.Memo(head=None, mark=""))
    assert json.loads(path.read_bytes()) == {"seq": 0, "hash": "", "mark": ""}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"hash": "h", "mark": "m"}',
        b'{"seq": 1, "mark": "m"}',
        b'{"seq": 1, "hash": "h"}',
        b'{"seq": "x", "hash": "h", "mark": "m"}',
        b'{"seq": 1, "hash": "h", "mark": "m", "prefix": {"bytes": 1}}',
        b'{"seq": 1, "hash": "h", "mark": "m", "prefix": 5}',
    ],
)
def test_an_unreadable_memo_is_no_memo(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "memo"
    path.write_bytes(data)
    assert trust.read_memo(path) is None


def test_no_memo_file_or_no_place_for_one_is_no_memo(tmp_path: Path) -> None:
    assert trust.read_memo(tmp_path / "absent") is None
    assert trust.read_memo(None) is None
    trust.write_memo(None, trust.Memo(head=HEAD, mark="m"))  # a read-only view: nothing written


def test_a_memo_is_written_where_no_directory_was_yet_and_replaced_later(tmp_path: Path) -> None:
    path = tmp_path / "new" / "cache" / "sdl-tracker" / "memo"
    trust.write_memo(path, trust.Memo(head=HEAD, mark="first"))
    assert trust.read_memo(path) == trust.Memo(head=HEAD, mark="first")
    trust.write_memo(path, trust.Memo(head=None, mark="second"))
    assert trust.read_memo(path) == trust.Memo(head=None, mark="second")
    assert sorted(p.name for p in path.parent.iterdir()) == ["memo"]  # no temporary left


def test_a_memo_that_cannot_be_written_is_skipped_without_an_error(tmp_path: Path) -> None:
    """A read-only place (here: a file where the directory should be) only means the next
    check is a full one; nothing is left behind."""
    blocker = tmp_path / "cache"
    blocker.write_bytes(b"a file")
    trust.write_memo(blocker / "memo", trust.Memo(head=HEAD, mark="m"))
    assert blocker.read_bytes() == b"a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


# Where the memo lives.


def test_a_branch_memo_lives_in_the_repositorys_git_directory(git_repo: Path) -> None:
    store = _branch(git_repo, 1, branch="audit/ledger")
    path = trust.memo_path(store)
    assert path == git_repo / ".git" / "sdl-tracker" / "verified-audit%2Fledger"
    assert trust.read_memo(path) == trust.Memo(head=store.head(), mark=store.commit() or "")
    commit = store.commit()
    assert commit
    assert trust.memo_path(GitStore(git_repo, "audit/ledger", at=commit)) is None


def test_a_directory_memo_is_keyed_by_the_resolved_path(tmp_path: Path, cache: Path) -> None:
    store = _dir(tmp_path, 1)
    key = hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:24]
    assert trust.memo_path(store) == cache / f"verified-dir-{key}"
    (tmp_path / "link").symlink_to(store.path)
    assert trust.memo_path(DirStore(tmp_path / "link")) == trust.memo_path(store)
    other = DirStore(tmp_path / "other")
    assert trust.memo_path(other) != trust.memo_path(store)
    assert trust.read_memo(trust.memo_path(store)) is not None


def test_a_postgresql_memo_is_keyed_by_the_chains_location(cache: Path) -> None:
    store = PgStore("postgresql://ci:secret@db.example/ledger", "acme/plc")
    key = hashlib.sha256(store.location.encode()).hexdigest()[:24]
    assert trust.memo_path(store) == cache / f"verified-{key}"
    assert trust.memo_path(PgStore("postgresql://ci@db.example/ledger", "acme/hmi")) != (
        trust.memo_path(store)
    )


def test_the_cache_directory_follows_xdg_only_when_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert trust._cache("m") == tmp_path / "xdg" / "sdl-tracker" / "m"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert trust._cache("m") == tmp_path / "home" / ".cache" / "sdl-tracker" / "m"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert trust._cache("m") == tmp_path / "home" / ".cache" / "sdl-tracker" / "m"


# The store's mark and the view read at it.


def test_a_branchs_mark_is_its_commit_and_nothing_before_it_exists(git_repo: Path) -> None:
    store = GitStore(git_repo)
    assert trust.mark(store) == ""
    store.create()
    ledger.append(store, [make_statement(1)])
    assert trust.mark(store) == _git(git_repo, "rev-parse", "refs/heads/sdl-ledger")


def test_a_view_at_a_mark_reads_that_commit_under_the_branchs_name(git_repo: Path) -> None:
    store = _branch(git_repo, 2, branch="audit/ledger")
    older = store.commit()
    assert older
    ledger.append(store, [make_statement(3)])
    view = trust.fixed(store, older)
    assert isinstance(view, GitStore) and view.ref == older
    assert [e.seq for e in trust._unchecked(view)] == [1, 2]
    head, segments = view.snapshot()
    assert head is not None and head.seq == 2
    assert all(s.where.startswith("audit/ledger:entries/") for s in segments)
    assert trust.fixed(store, "") is store


def test_a_directory_is_read_as_it_is_whatever_the_mark(tmp_path: Path) -> None:
    store = _dir(tmp_path, 1)
    assert trust.fixed(store, store.mark()) is store
    assert trust.mark(store) == store.mark() != ""


# What is read without a check, and what a memo cannot hide.


def _forge_memo_of_now(store: DirStore | GitStore) -> None:
    """A memo naming the store's current mark, as whoever can write the memo's place could."""
    trust.write_memo(trust.memo_path(store), trust.Memo(head=None, mark=trust.mark(store)))


def test_a_line_read_unchecked_that_is_no_entry_is_named_by_its_place(tmp_path: Path) -> None:
    store = _dir(tmp_path, 3)
    entries = store.path / "entries.jsonl"
    lines = entries.read_bytes().splitlines(keepends=True)
    entries.write_bytes(lines[0] + lines[1] + b"garbage\n")
    _forge_memo_of_now(store)
    with pytest.raises(ChainError) as caught:
        list(trust.entries(store))
    assert caught.value.where == f"{entries} line 3"


def test_entries_read_at_a_mark_are_that_commits(git_repo: Path, tmp_path: Path) -> None:
    store = _branch(git_repo, 2)
    older = store.commit()
    assert older
    ledger.append(store, [make_statement(3)])
    memo = tmp_path / "memo-of-a-view"
    assert [e.seq for e in trust.entries(store, at=older, memo=None, path=memo)] == [1, 2]
    assert trust.read_memo(memo) == trust.Memo(head=Head(2, _hash(store, 2)), mark=older)


def _hash(store: GitStore | DirStore, seq: int) -> str:
    return next(e.hash for e in ledger.unverified_entries(store) if e.seq == seq)


def test_a_full_check_remembers_the_head_and_the_mark(git_repo: Path, tmp_path: Path) -> None:
    for store in (_branch(git_repo, 2), _dir(tmp_path, 2)):
        trust.forget(store)
        assert [e.seq for e in ledger.entries(store)] == [1, 2]
        memo = trust.read_memo(trust.memo_path(store))
        assert memo is not None
        assert (memo.head, memo.mark) == (store.head(), trust.mark(store))
        # A branch is remembered by its commit alone: no prefix of an entry file.
        assert (memo.prefix is None) == isinstance(store, GitStore)


def test_entries_pulled_since_the_memo_are_remembered_once_read(git_repo: Path) -> None:
    store = _branch(git_repo, 2)
    path = trust.memo_path(store)
    assert path is not None
    verified = path.read_bytes()
    ledger.append(store, [make_statement(3)])
    path.write_bytes(verified)  # as if entry 3 came with `git fetch`
    assert [e.seq for e in ledger.entries(store)] == [1, 2, 3]
    assert trust.read_memo(path) == trust.Memo(head=store.head(), mark=store.commit() or "")


def test_a_bad_entry_pulled_since_the_memo_is_refused_naming_the_branch(git_repo: Path) -> None:
    store = _branch(git_repo, 2)
    path = trust.memo_path(store)
    assert path is not None
    verified = path.read_bytes()
    tamper.rewrite(git_repo, lambda files: {**files, "entries/x.jsonl": b"garbage\n"})
    path.write_bytes(verified)
    with pytest.raises(UnverifiedLedger) as caught:
        list(ledger.entries(store))
    assert f"the ledger at {store.location} does not verify" in str(caught.value)
    assert "entries/x.jsonl" in str(caught.value)


def test_a_directory_read_since_its_prefix_is_remembered_with_its_mark(tmp_path: Path) -> None:
    store = _dir(tmp_path, 2)
    DirStore(store.path).append(
        chain.seal(store.head(), [make_statement(3)]), {}, expected=store.head()
    )
    assert [e.seq for e in ledger.entries(store)] == [1, 2, 3]
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None and memo.prefix is not None
    assert (memo.head, memo.mark) == (store.head(), store.mark())
    assert memo.prefix.size == (store.path / "entries.jsonl").stat().st_size


def test_a_memo_without_a_prefix_still_refuses_a_rewind(tmp_path: Path) -> None:
    """A directory memo with no prefix (written before prefixes, or after an append onto no
    memo) takes the full check, which must still know the entry verified here."""
    store = _dir(tmp_path, 3)
    head = store.head()
    trust.write_memo(trust.memo_path(store), trust.Memo(head=head, mark=""))
    entries = store.path / "entries.jsonl"
    lines = entries.read_bytes().splitlines(keepends=True)
    entries.write_bytes(b"".join(lines[:2]))
    last = json.loads(lines[1])
    marker = {"bytes": len(lines[0]) + len(lines[1]), "hash": last["hash"], "seq": 2}
    (store.path / "HEAD").write_text(json.dumps(marker, sort_keys=True))
    with pytest.raises(UnverifiedLedger, match="verified here earlier") as caught:
        list(ledger.entries(store))
    assert str(caught.value).startswith(f"the ledger at {store.location} does not verify")


def test_the_entry_files_prefix_is_measured_over_every_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dirstore, "_CHUNK", 97)
    store = _dir(tmp_path, 3)
    trust.forget(store)
    assert [e.seq for e in ledger.entries(store)] == [1, 2, 3]
    memo = trust.read_memo(trust.memo_path(store))
    data = (store.path / "entries.jsonl").read_bytes()
    assert memo is not None and memo.prefix is not None
    assert (memo.prefix.size, memo.prefix.sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_memo_whose_commit_is_gone_still_walks_the_branchs_history(git_repo: Path) -> None:
    """Entry 3 sealed again with other content, by a commit that changes its file: the chain
    verifies, only the branch's history tells. A memo naming a commit git no longer has (a
    forged one, or one from before a force-push and a gc) must not skip that walk: the check
    is then the first one here."""
    store = _branch(git_repo, 2)
    verified = store.head()
    assert verified is not None
    ledger.append(store, [make_statement(3)])
    files = tamper.branch_files(git_repo)
    (third,) = [p for p, d in files.items() if p.startswith("entries/") and b'"seq":3,' in d]
    (forged,) = chain.seal(verified, [make_statement(3, note="forged")])
    message = _git(git_repo, "log", "-1", "--format=%B", "sdl-ledger")
    head = store.head()
    assert head is not None
    commit = tamper.commit_files(
        git_repo,
        {**files, third: forged.raw + b"\n"},
        parent=store.commit(),
        message=message.replace(head.hash, forged.hash),
    )
    _git(git_repo, "update-ref", "refs/heads/sdl-ledger", commit)
    path = trust.memo_path(store)
    assert path is not None
    for memo in (None, trust.Memo(head=verified, mark="f" * 40)):
        path.unlink(missing_ok=True)
        if memo is not None:
            trust.write_memo(path, memo)
        with pytest.raises(UnverifiedLedger, match=r"entries/\S*3\.jsonl"):
            list(ledger.entries(GitStore(git_repo)))
        with pytest.raises(UnverifiedLedger, match=r"entries/\S*3\.jsonl"):
            trust.check(GitStore(git_repo))


def test_without_a_memo_every_artifact_is_read(tmp_path: Path) -> None:
    """The memo spares the artifacts of the entries verified here; without one (a new
    machine, a memo dropped or unreadable) the full check reads every artifact again. (On a
    branch the history walk names such a change first.)"""
    art, data = ledger.artifact("report.json", b"{}")
    store = DirStore(tmp_path / "ledger")
    store.create()
    ledger.append(store, [make_statement(1, [art])], {art.sha256: data})
    assert [e.seq for e in ledger.entries(store)] == [1]
    (store.path / "objects" / art.sha256[:2] / art.sha256[2:]).write_bytes(b"{ }")
    assert [e.seq for e in ledger.entries(store)] == [1]  # spared: verified here already
    trust.forget(store)
    with pytest.raises(UnverifiedLedger, match="does not match its content"):
        list(ledger.entries(store))
