"""What `ledger.trust` decides without reading the ledger again, pinned case by case: each test
here was written for a mutant of `check`, `_since`, `_dir_since` or `appended` that the other
ledger tests let through (docs/testing.md, "Third run (a)")."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import UnverifiedLedger
from sdl_tracker.ledger import chain, dirstore, trust
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.dirstore import DirStore
from sdl_tracker.ledger.gitstore import GitStore

from . import tamper

ENTRY3 = "entries/00000000/000000000003.jsonl"


def _pulled(git_repo: Path, count: int) -> tuple[GitStore, trust.Memo]:
    """A branch verified here at 2 entries that then gained `count` more from elsewhere (as
    with `git fetch`): the memo still names the older commit."""
    store = GitStore(git_repo)
    store.create()
    ledger.append(store, [make_statement(i) for i in range(2)])
    path = trust.memo_path(store)
    assert path is not None
    verified = path.read_bytes()
    if count:
        ledger.append(store, [make_statement(i) for i in range(2, 2 + count)])
        path.write_bytes(verified)
    memo = trust.read_memo(path)
    assert memo is not None and memo.head is not None and memo.head.seq == 2
    return store, memo


def _never_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(self: GitStore) -> object:
        raise AssertionError(f"the whole ledger was read at {self.ref}")

    monkeypatch.setattr(GitStore, "snapshot", whole)


def test_entries_pulled_since_the_memo_are_checked_without_reading_the_others(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The incremental check reads the files added since the remembered commit, never the
    whole branch: that is what keeps a hook's check fast on a long ledger."""
    store, _ = _pulled(git_repo, 2)
    head = store.head()
    _never_read_whole(monkeypatch)
    assert trust.check(store) == head
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None and (memo.head, memo.mark) == (head, store.commit())


def test_a_bad_pulled_entry_is_refused_naming_the_ledger_and_the_file(git_repo: Path) -> None:
    store, _ = _pulled(git_repo, 1)
    files = tamper.branch_files(git_repo)
    files[ENTRY3] = files[ENTRY3].replace(b'"status":"pass"', b'"status":"fail"')
    forged = tamper.commit_files(git_repo, files, parent=store.commit(), message="forged")
    tamper._git(git_repo, "update-ref", "refs/heads/sdl-ledger", forged)
    with pytest.raises(UnverifiedLedger) as caught:
        trust.check(store)
    assert str(caught.value).startswith(
        f"the ledger at {store.location} does not verify: entry 3 (sdl-ledger:{ENTRY3} line 1): "
        "hash does not match its content."
    )


def test_a_pulled_entry_whose_blob_is_missing_is_refused(git_repo: Path) -> None:
    """The commit lists an added entry file that the object database does not hold (a broken
    or partial clone): refused, never read as an empty file."""
    store, _ = _pulled(git_repo, 0)
    files = tamper.branch_files(git_repo)
    files[ENTRY3] = b"an entry file whose blob will be gone\n"
    tip = store.commit()
    message = tamper._git(git_repo, "log", "-1", "--format=%B", "sdl-ledger")
    commit = tamper.commit_files(git_repo, files, parent=tip, message=message)
    tamper._git(git_repo, "update-ref", "refs/heads/sdl-ledger", commit)
    blob = tamper._git(git_repo, "rev-parse", f"{commit}:{ENTRY3}")
    (git_repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(UnverifiedLedger) as caught:
        trust.check(store)
    cause = caught.value.__cause__
    assert isinstance(cause, chain.ChainError)
    assert (cause.seq, cause.where, cause.reason) == (
        0,
        f"sdl-ledger:{ENTRY3}",
        "listed but its blob is missing",
    )
    assert str(caught.value).startswith(f"the ledger at {store.location} does not verify")


def test_a_pulled_entrys_artifact_is_read(git_repo: Path) -> None:
    """An entry that arrived with `git fetch` names an artifact the branch does not hold."""
    store, _ = _pulled(git_repo, 0)
    art, _ = ledger.artifact("report.json", b'{"run": 3}')
    head = store.head()
    assert head is not None
    (entry,) = chain.seal(head, [make_statement(3, [art])])
    files = tamper.branch_files(git_repo)
    files[ENTRY3] = entry.raw + b"\n"
    message = f"ledger: entry 3\n\nLedger-Seq: 3\nLedger-Hash: {entry.hash}\n"
    commit = tamper.commit_files(git_repo, files, parent=store.commit(), message=message)
    tamper._git(git_repo, "update-ref", "refs/heads/sdl-ledger", commit)
    assert GitStore(git_repo).head() == Head(3, entry.hash)
    with pytest.raises(UnverifiedLedger, match=f"entry 3 .*missing artifact sha256:{art.sha256}"):
        trust.check(store)


def test_the_incremental_check_reads_the_branch_as_of_the_mark_it_was_given(
    git_repo: Path,
) -> None:
    """Another writer appends between the moment the mark is read and the check: the entries
    and the head marker are both those of that commit, not of the moved branch."""
    store, memo = _pulled(git_repo, 1)
    at = store.commit()
    head = store.head()
    ledger.append(store, [make_statement(9)])  # the branch moves on after `at` was read
    assert trust._since(store, memo, at) == (head,)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["git", "dir"])
def test_an_empty_ledger_has_no_verified_head(kind: str, git_repo: Path, tmp_path: Path) -> None:
    store = GitStore(git_repo) if kind == "git" else DirStore(tmp_path / "ledger")
    store.create()
    assert trust.check(store) is None
    assert trust.check(store) is None  # the memo of an empty ledger, read back
    (entry,) = ledger.append(store, [make_statement(1)])
    assert trust.check(store) == Head(1, entry.hash)


def test_an_append_onto_a_directory_restored_from_a_backup_is_refused(tmp_path: Path) -> None:
    """A backup of the directory taken at entry 2 is restored after entry 3 was verified
    here (our own append, or a check after another writer's): the next append checks the
    ledger against what this machine verified, and refuses the rewind instead of chaining a
    new entry 3 onto it."""
    store = DirStore(tmp_path / "ledger")
    store.create()
    ledger.append(store, [make_statement(1), make_statement(2)])
    backup = tmp_path / "backup"
    shutil.copytree(store.path, backup)
    ledger.append(store, [make_statement(3)])
    assert trust.check(store) is not None
    shutil.rmtree(store.path)
    shutil.copytree(backup, store.path)
    for attempt in (lambda: trust.check(store), lambda: ledger.append(store, [make_statement(4)])):
        with pytest.raises(UnverifiedLedger, match="entry 3 .*verified here earlier.*rewound"):
            attempt()
    assert [e.seq for e in ledger.unverified_entries(store)] == [1, 2]


# The directory store: the prefix verified here is hashed in one pass, the lines after it are
# verified one by one. A small read size (`_CHUNK`) splits the entry file into segments of one
# or two lines, so the prefix ends inside, at the end of, or before a segment.
CHUNKS = [8 << 20, 2000, 700]


def _dir_store(tmp_path: Path, count: int) -> DirStore:
    store = DirStore(tmp_path / "ledger")
    store.create()
    for i in range(1, count + 1):
        _other_writer(store, i)
    assert [e.seq for e in ledger.entries(store)] == list(range(1, count + 1))  # the full check
    return store


def _other_writer(store: DirStore, i: int) -> None:
    """An append by a process that neither checks nor updates this machine's memo."""
    head = store.head()
    DirStore(store.path).append(chain.seal(head, [make_statement(i)]), {}, expected=head)


def _entry_file(store: DirStore) -> Path:
    return store.path / "entries.jsonl"


def _memo(store: DirStore) -> trust.Memo:
    memo = trust.read_memo(trust.memo_path(store))
    assert memo is not None
    return memo


@pytest.mark.parametrize("chunk", CHUNKS)
def test_lines_appended_by_another_writer_are_verified_and_the_new_prefix_remembered(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dirstore, "_CHUNK", chunk)
    store = _dir_store(tmp_path, 3)
    for more in (4, 5, 6):  # three rounds: each starts from the prefix the last one remembered
        _other_writer(store, more)
        if more == 5:
            _other_writer(store, 50)
        seen = list(ledger.entries(store))
        assert [e.raw for e in seen] == [e.raw for e in ledger.unverified_entries(store)]
        data = _entry_file(store).read_bytes()
        memo = _memo(store)
        digest = hashlib.sha256(data).hexdigest()
        assert memo.prefix == trust.Prefix(len(data), digest, store.head())
        assert (memo.head, memo.mark) == (store.head(), store.mark())


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_bad_appended_line_is_named_by_its_line_number(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries 1 and 2 verified here, 3 to 5 appended since, entry 4 edited (hash left)."""
    monkeypatch.setattr(dirstore, "_CHUNK", chunk)
    store = _dir_store(tmp_path, 2)
    for i in (3, 4, 5):
        _other_writer(store, i)
    lines = _entry_file(store).read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b'"status":"pass"', b'"status":"fail"')
    _entry_file(store).write_bytes(b"".join(lines))
    with pytest.raises(UnverifiedLedger) as caught:
        list(ledger.entries(store))
    assert (caught.value.seq, caught.value.where, caught.value.reason) == (
        4,
        f"{_entry_file(store)} line 4",
        "hash does not match its content",
    )
    assert str(caught.value).startswith(f"the ledger at {store.location} does not verify: ")


@pytest.mark.parametrize("chunk", CHUNKS)
def test_an_unreadable_line_inside_the_verified_prefix_is_named_by_its_entry_and_line(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full check names it, as `ledger verify` would (entry 2, not the "entry 0" of a line
    whose sequence number cannot be read)."""
    monkeypatch.setattr(dirstore, "_CHUNK", chunk)
    store = _dir_store(tmp_path, 3)
    lines = _entry_file(store).read_bytes().splitlines(keepends=True)
    lines[1] = b"x" * (len(lines[1]) - 1) + b"\n"  # same length: only the bytes tell
    _entry_file(store).write_bytes(b"".join(lines))
    with pytest.raises(UnverifiedLedger) as caught:
        list(ledger.entries(store))
    assert (caught.value.seq, caught.value.where) == (2, f"{_entry_file(store)} line 2")
    assert caught.value.reason.startswith("not a ledger entry")


def test_an_entry_file_written_again_unchanged_still_verifies(tmp_path: Path) -> None:
    """Its mark changed (a backup tool rewrote the same bytes): the prefix still hashes as
    remembered, so nothing is refused and the memo follows the new mark."""
    store = _dir_store(tmp_path, 2)
    before = _memo(store)
    data = _entry_file(store).read_bytes()
    _entry_file(store).unlink()
    _entry_file(store).write_bytes(data)
    assert store.mark() != before.mark
    assert [e.seq for e in ledger.entries(store)] == [1, 2]
    after = _memo(store)
    assert after == trust.Memo(head=before.head, mark=store.mark(), prefix=before.prefix)


def test_a_rewrite_at_another_length_under_appended_lines_names_the_ledger(
    tmp_path: Path,
) -> None:
    store = _dir_store(tmp_path, 2)
    resealed = chain.seal(None, [make_statement(1000 + i) for i in (1, 2)])
    data = b"".join(e.raw + b"\n" for e in resealed)
    _entry_file(store).write_bytes(data)
    store._write_head(Head(2, resealed[1].hash), len(data))
    _other_writer(store, 3)
    with pytest.raises(UnverifiedLedger) as caught:
        list(ledger.entries(store))
    assert str(caught.value).startswith(
        f"the ledger at {store.location} does not verify: entry 2 ({_entry_file(store)} line 2): "
        "entry 2 was verified here earlier as "
    )


def test_lines_that_do_not_link_to_the_remembered_prefix_are_a_broken_link(
    tmp_path: Path,
) -> None:
    """The memo's prefix hashes as the file's first bytes but names another last entry (a
    memo written by hand): the first appended line is refused, not the whole file blamed."""
    store = _dir_store(tmp_path, 2)
    path = trust.memo_path(store)
    memo = _memo(store)
    assert memo.prefix is not None and memo.prefix.head is not None
    other = trust.Prefix(memo.prefix.size, memo.prefix.sha256, Head(2, "0" * 64))
    trust.write_memo(path, trust.Memo(head=memo.head, mark=memo.mark, prefix=other))
    _other_writer(store, 3)
    with pytest.raises(UnverifiedLedger) as caught:
        list(ledger.entries(store))
    assert (caught.value.seq, caught.value.where) == (3, f"{_entry_file(store)} line 3")
    assert caught.value.reason.startswith("broken link: prev is ")
    assert caught.value.reason.endswith(
        "expected 000000000000… (an entry was removed, reordered or replaced)"
    )
