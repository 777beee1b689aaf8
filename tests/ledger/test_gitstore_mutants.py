"""Tests written for mutants of gitstore.py and history.py that the other ledger tests let
survive (benchmarks/mutation.sh, target `stores`; the survivors and the reasons for the rest
are in docs/testing.md).

One real repository per module: a ledger branch of three commits (the README, then two
batches), and tampered commits made beside it with git plumbing, as an attacker with write
access would, read through a fixed view (`GitStore(root, at=commit)`) so the branch itself
stays as it is for the next test.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, GitError, HeadMoved, HistoryError, LedgerError
from sdl_tracker.ledger import chain, gitstore, history
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.gitstore import GitStore, entries_path, object_path

REPORT = b'{"findings": []}\n'


def git(
    root: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=root,
        input=input,
        capture_output=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return proc.stdout.decode().strip()


class Repo:
    def __init__(self, root: Path, commits: list[str], report: str) -> None:
        self.root = root
        self.commits = commits
        """The ledger branch's commits, oldest first: README, entries 1..2, entry 3."""
        self.report = report
        """The SHA-256 of the artifact entry 1 names."""

    @property
    def tip(self) -> str:
        return self.commits[-1]

    def files(self, commit: str) -> dict[str, tuple[str, bytes]]:
        """{path: (mode, bytes)} of the commit's tree."""
        listing = git(self.root, "ls-tree", "-r", commit).splitlines()
        out = {}
        for line in listing:
            meta, _, path = line.partition("\t")
            mode, _, oid = meta.split()
            out[path] = (
                mode,
                subprocess.run(
                    ["git", "cat-file", "blob", oid], cwd=self.root, capture_output=True, check=True
                ).stdout,
            )
        return out

    def commit(
        self, files: dict[str, tuple[str, bytes]], *parents: str, message: str = "tidy up"
    ) -> str:
        """A commit whose tree holds exactly `files` ({path: (mode, bytes)})."""
        env = {"GIT_INDEX_FILE": str(self.root / ".git" / "forger-index")}
        git(self.root, "read-tree", "--empty", env=env)
        for path, (mode, data) in files.items():
            oid = git(self.root, "hash-object", "-w", "--stdin", input=data)
            git(self.root, "update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}", env=env)
        tree = git(self.root, "write-tree", env=env)
        args = [a for p in parents for a in ("-p", p)]
        return git(self.root, "commit-tree", tree, *args, "-m", message)

    def view(self, commit: str) -> GitStore:
        return GitStore(self.root, at=commit)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    base = tmp_path_factory.mktemp("gitstore")
    root = base / "repo"
    with pytest.MonkeyPatch.context() as mp:
        (base / "gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
        mp.setenv("GIT_CONFIG_GLOBAL", str(base / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            mp.delenv(name, raising=False)
        git(base, "init", "-q", "-b", "main", str(root))
        git(root, "commit", "-q", "--allow-empty", "-m", "initial commit")
        store = GitStore(root)
        assert store.create()
        commits = [store.commit() or ""]
        art, data = ledger.artifact("report.json", REPORT)
        first = chain.seal(None, [make_statement(1, [art]), make_statement(2)])
        store.append(first, {art.sha256: data}, expected=None)
        commits.append(store.written)
        second = chain.seal(Head(2, first[-1].hash), [make_statement(3)])
        store.append(second, {}, expected=Head(2, first[-1].hash))
        commits.append(store.written)
        yield Repo(root, commits, art.sha256)


# -- history.check: every commit of the branch only adds files ---------------------------------


def test_a_history_that_only_adds_files_counts_its_commits(repo: Repo) -> None:
    store = GitStore(repo.root)
    assert history.check(store) == 3
    assert history.check(store, since=repo.commits[0]) == 2
    assert history.check(store, since=repo.commits[1]) == 1
    assert history.check(store, since=repo.tip) == 0
    assert history.check(repo.view(repo.commits[1])) == 2
    assert history.check(repo.view(repo.commits[1]), since=repo.commits[0]) == 1


ENTRY1 = entries_path(1)
ENTRY3 = entries_path(3)


@pytest.mark.parametrize(
    ("change", "path", "seq", "word"),
    [
        ("modify", ENTRY3, 3, "modified"),
        ("delete", ENTRY1, 1, "deleted"),
        ("symlink", ENTRY3, 3, "changed in type"),
        ("modify", "README.txt", 0, "modified"),
        ("delete", "object", 0, "deleted"),
    ],
)
def test_every_change_but_an_addition_is_named_with_its_commit_path_and_entry(
    repo: Repo, change: str, path: str, seq: int, word: str
) -> None:
    if path == "object":
        path = object_path(repo.report)
    files = repo.files(repo.tip)
    if change == "modify":
        files[path] = ("100644", files[path][1] + b"\n")
    elif change == "delete":
        del files[path]
    else:
        files[path] = ("120000", b"000000000001.jsonl")
    forged = repo.commit(files, repo.tip)
    for since in (None, repo.commits[1]):
        with pytest.raises(HistoryError) as caught:
            history.check(repo.view(forged), since=since)
        error = caught.value
        assert (error.seq, error.where, error.commit, error.path) == (
            seq,
            f"commit {forged}",
            forged,
            path,
        )
        assert f"{path} was {word} (the ledger branch's history must only add" in str(error)
    with pytest.raises(HistoryError) as caught:
        history.added_only(repo.view(forged), repo.tip, forged)
    error = caught.value
    where = f"commit {forged} (since {repo.tip[:12]}, verified here earlier)"
    assert (error.seq, error.where, error.path) == (seq, where, path)
    assert f"{path} was {word} (" in str(error)


def test_an_empty_tree_after_a_full_one_is_tampering(repo: Repo) -> None:
    """`git commit` deleting everything leaves a valid, empty chain: the history tells."""
    emptied = repo.commit({}, repo.tip)
    with pytest.raises(HistoryError) as caught:
        history.check(repo.view(emptied))
    assert (caught.value.commit, caught.value.path) == (emptied, "README.txt")
    assert "README.txt was deleted" in str(caught.value)
    with pytest.raises(HistoryError) as caught:
        history.added_only(repo.view(emptied), repo.commits[1], emptied)
    assert (caught.value.path, caught.value.seq) == ("README.txt", 0)


def test_the_first_tampering_commit_is_named_not_a_later_one(repo: Repo) -> None:
    files = repo.files(repo.tip)
    del files[object_path(repo.report)]
    first = repo.commit(files, repo.tip)
    files[ENTRY1] = ("100644", b"")
    second = repo.commit(files, first)
    with pytest.raises(HistoryError) as caught:
        history.check(repo.view(second))
    assert (caught.value.commit, caught.value.path) == (first, object_path(repo.report))
    with pytest.raises(HistoryError) as caught:
        history.check(repo.view(second), since=first)
    assert (caught.value.commit, caught.value.path, caught.value.seq) == (second, ENTRY1, 1)


def test_a_moved_entry_file_is_its_deletion(repo: Repo) -> None:
    """Rename detection off: a moved batch is the deletion of the path its entries were at."""
    files = repo.files(repo.tip)
    files["entries/00000000/000000000000.jsonl"] = files.pop(ENTRY3)
    moved = repo.commit(files, repo.tip)
    with pytest.raises(HistoryError) as caught:
        history.check(repo.view(moved))
    assert (caught.value.path, caught.value.seq) == (ENTRY3, 3)
    assert f"{ENTRY3} was deleted" in str(caught.value)


def test_only_the_branchs_own_line_of_commits_is_its_history(repo: Repo) -> None:
    """A merge is judged by what it changes on the ledger's side (its first parent): a merged
    side history's own deletions are not the ledger's, an emptied tree in a merge is."""
    side = repo.commit({"notes.txt": ("100644", b"a\n")})
    side = repo.commit({}, side)
    files = repo.files(repo.tip)
    files["notes.txt"] = ("100644", b"a\n")
    merged = repo.commit(files, repo.tip, side)
    assert history.check(repo.view(merged)) == 4
    emptied = repo.commit({}, repo.tip, side)
    with pytest.raises(HistoryError) as caught:
        history.check(repo.view(emptied))
    assert (caught.value.commit, caught.value.path) == (emptied, "README.txt")


def test_a_work_tree_path_named_like_the_branch_is_not_read_as_a_path(repo: Repo) -> None:
    shadow = repo.root / "refs" / "heads" / "sdl-ledger"
    shadow.parent.mkdir(parents=True)
    shadow.write_text("not the ledger\n")
    try:
        assert history.check(GitStore(repo.root)) == 3
    finally:
        shadow.unlink()


def test_a_history_git_cannot_read_is_a_git_error_naming_the_ledger(repo: Repo) -> None:
    store = GitStore(repo.root, "gone")
    with pytest.raises(GitError) as caught:
        history.check(store)
    message = str(caught.value)
    assert message.startswith(f"branch gone of {repo.root}: git log failed: fatal: ")
    assert "refs/heads/gone" in message


def test_the_users_log_format_does_not_change_what_is_read(repo: Repo) -> None:
    """`format.pretty = oneline` in the repository's configuration: the walk still sees every
    commit and names the tampering one."""
    files = repo.files(repo.tip)
    del files[ENTRY3]
    forged = repo.commit(files, repo.tip)
    git(repo.root, "config", "format.pretty", "oneline")
    try:
        assert history.check(GitStore(repo.root)) == 3
        with pytest.raises(HistoryError) as caught:
            history.check(repo.view(forged))
        assert (caught.value.commit, caught.value.path) == (forged, ENTRY3)
    finally:
        git(repo.root, "config", "--unset", "format.pretty")


def test_a_path_that_is_not_utf8_is_read_with_quoting_off(repo: Repo) -> None:
    """`core.quotePath = false` (common where file names are not English): git prints a
    file name's own bytes, which need not be UTF-8; they are read, not a crash."""
    odd = "objects/\udcff\udcfe"  # the bytes ff fe, as os.fsdecode gives them
    files = repo.files(repo.tip)
    files[odd] = ("100644", b"x")
    added = repo.commit(files, repo.tip)
    del files[odd]
    removed = repo.commit(files, added)
    git(repo.root, "config", "core.quotePath", "false")
    try:
        assert history.check(repo.view(added)) == 4
        assert history.added_only(repo.view(added), repo.tip, added) == [odd]
        with pytest.raises(HistoryError) as caught:
            history.check(repo.view(removed))
        assert (caught.value.commit, caught.value.path) == (removed, odd)
        with pytest.raises(HistoryError) as caught:
            history.added_only(repo.view(removed), added, removed)
        assert caught.value.path == odd
    finally:
        git(repo.root, "config", "--unset", "core.quotePath")


# -- history.added_only: what a commit verified here earlier was followed by ----------------------


def test_the_files_added_since_a_verified_commit(repo: Repo) -> None:
    store = GitStore(repo.root)
    assert history.added_only(store, repo.tip, repo.tip) == []
    assert history.added_only(store, repo.commits[1], repo.tip) == [ENTRY3]
    assert history.added_only(store, repo.commits[0], repo.tip) == [
        ENTRY1,
        ENTRY3,
        object_path(repo.report),
    ]


def test_a_verified_commit_git_no_longer_has_means_read_everything(repo: Repo) -> None:
    assert history.added_only(GitStore(repo.root), "1" * 40, repo.tip) is None


def test_a_branch_moved_back_to_an_ancestor_is_a_rewind(repo: Repo) -> None:
    old, new = repo.tip, repo.commits[1]
    with pytest.raises(ChainError) as caught:
        history.added_only(GitStore(repo.root), old, new)
    error = caught.value
    assert type(error) is ChainError
    assert (error.seq, error.where) == (0, f"commit {new}")
    assert error.reason == (
        f"the branch was moved back from {old[:12]}…, verified here earlier, to its "
        f"ancestor {new[:12]}…: the entries after it were dropped (rewound)"
    )


def test_a_rewritten_branch_that_only_adds_to_the_verified_tree_is_not_a_rewind(
    repo: Repo,
) -> None:
    """Neither commit is the other's ancestor: the trees decide, not the ancestry."""
    files = repo.files(repo.tip)
    files["objects/00/" + "0" * 62] = ("100644", b"x")
    sibling = repo.commit(files, repo.commits[1])
    assert history.added_only(GitStore(repo.root), repo.tip, sibling) == ["objects/00/" + "0" * 62]


def test_the_branch_layout_one_directory_per_ten_thousand_entries() -> None:
    """The paths other copies of the ledger (and `git log` readers) find the entries at."""
    assert entries_path(1) == "entries/00000000/000000000001.jsonl"
    assert entries_path(9999) == "entries/00000000/000000009999.jsonl"
    assert entries_path(10000) == "entries/00000001/000000010000.jsonl"
    assert entries_path(123456789) == "entries/00012345/000123456789.jsonl"
    assert object_path("ab" + "c" * 62) == "objects/ab/" + "c" * 62


# -- gitstore: the commits an append makes ----------------------------------------------------


def _message(repo: Repo, commit: str) -> str:
    raw = subprocess.run(
        ["git", "cat-file", "commit", commit], cwd=repo.root, capture_output=True, check=True
    ).stdout
    return raw.decode().split("\n\n", 1)[1]


def test_create_commits_the_readme_alone_and_each_append_one_batch_on_the_last(
    repo: Repo,
) -> None:
    created, first, second = repo.commits
    assert git(repo.root, "rev-list", "--parents", "-n1", created) == created
    assert _message(repo, created) == "sdl-ledger: create the ledger\n"
    assert repo.files(created) == {"README.txt": ("100644", gitstore._README)}
    assert git(repo.root, "rev-list", "--parents", "-n1", first) == f"{first} {created}"
    entries = list(ledger.entries(GitStore(repo.root)))
    assert _message(repo, first) == (
        f"sdl-ledger: entries 1..2\n\nLedger-Seq: 2\nLedger-Hash: {entries[1].hash}\n"
    )
    assert _message(repo, second) == (
        f"sdl-ledger: entries 3..3\n\nLedger-Seq: 3\nLedger-Hash: {entries[2].hash}\n"
    )
    added = {p: v for p, v in repo.files(first).items() if p != "README.txt"}
    assert added == {
        ENTRY1: ("100644", entries[0].raw + b"\n" + entries[1].raw + b"\n"),
        object_path(repo.report): ("100644", REPORT),
    }
    assert repo.files(second)[ENTRY3] == ("100644", entries[2].raw + b"\n")
    committer = git(repo.root, "log", "-1", "--format=%cn <%ce>", second)
    assert committer == "Ada <ada@example.com>"
    assert GitStore(repo.root).written == ""


def test_the_head_is_the_tips_last_marker_and_a_missing_branch_says_how_to_get_one(
    repo: Repo,
) -> None:
    assert GitStore(repo.root).head() == Head(3, list(ledger.entries(GitStore(repo.root)))[2].hash)
    assert repo.view(repo.commits[1]).commit() == repo.commits[1]
    assert repo.view(repo.commits[0]).head() is None
    two = "\n\n".join(f"Ledger-Seq: {s}\nLedger-Hash: {c * 64}" for s, c in ((7, "a"), (9, "b")))
    marked = repo.commit(repo.files(repo.tip), repo.tip, message=f"subject\n\n{two}\n")
    assert repo.view(marked).head() == Head(9, "b" * 64)
    gone = GitStore(repo.root, "gone")
    assert not gone.exists() and gone.commit() is None
    with pytest.raises(LedgerError) as caught:
        gone.head()
    assert str(caught.value) == (
        f"no ledger: branch gone of {repo.root} does not exist. Run `sdl-tracker init` to "
        "create it, or `git fetch origin gone:gone` to get the shared one"
    )
    with pytest.raises(LedgerError, match="^no ledger: branch gone"):
        gone.snapshot()
    with pytest.raises(LedgerError, match="^no ledger: branch gone"):
        gone.append(chain.seal(None, [make_statement(1)]), {}, expected=None)


@pytest.mark.parametrize("kind", ["tree", "blob"])
def test_a_ref_that_is_no_commit_is_a_ledger_error(repo: Repo, kind: str) -> None:
    name = f"{repo.tip}^{{tree}}" if kind == "tree" else f"{repo.tip}:README.txt"
    oid = git(repo.root, "rev-parse", name)
    view = repo.view(oid)
    with pytest.raises(LedgerError) as caught:
        view.head()
    size = git(repo.root, "cat-file", "-s", oid)
    assert str(caught.value) == (
        f"branch sdl-ledger of {repo.root}: {oid} is not a commit "
        f"({f'{oid} {kind} {size}'.encode()!r})"
    )


# -- gitstore: compare-and-swap on the ref ----------------------------------------------------


class Rival(dict[str, bytes]):
    """Artifacts whose listing moves the branch first, as a writer outside this machine's lock
    (a `git fetch` into the branch, another host on a shared file system) would, between the
    append's read of the tip and its compare-and-swap."""

    def __init__(self, move: Callable[[], None]) -> None:
        super().__init__()
        self.move = move

    def items(self):  # type: ignore[no-untyped-def, override]
        self.move()
        return super().items()


def test_a_writer_beaten_at_the_compare_and_swap_appends_nothing(repo: Repo) -> None:
    store = GitStore(repo.root, "race")
    assert store.create()
    base = store.commit() or ""
    winner = repo.commit(repo.files(base), base, message="another writer")
    ours = chain.seal(None, [make_statement(1)])

    def move() -> None:
        git(repo.root, "update-ref", "refs/heads/race", winner, base)

    with pytest.raises(HeadMoved) as caught:
        store.append(ours, Rival(move), expected=None)
    assert str(caught.value).startswith(f"branch race of {repo.root} moved: fatal: ")
    assert f"is at {winner} but expected {base}" in str(caught.value)
    assert store.commit() == winner and store.written == ""
    with pytest.raises(HeadMoved) as caught:
        store._move(base, gitstore.ZERO_OID)
    assert "reference already exists" in str(caught.value)
    assert store.commit() == winner
    with pytest.raises(HeadMoved) as caught:
        store.append(ours, {}, expected=Head(1, "0" * 64))
    assert str(caught.value) == (
        f"branch race of {repo.root}: head moved to None, expected {Head(1, '0' * 64)}"
    )
    assert store.create() is False and store.commit() == winner


# -- gitstore: fast-import's size threshold and its clean-up ----------------------------------


def _loose(root: Path) -> int:
    counts = dict(line.split(": ") for line in git(root, "count-objects", "-v").splitlines())
    return int(counts["count"])


def test_a_batch_over_a_mebibyte_stays_one_pack_and_one_up_to_it_is_unpacked(
    repo: Repo,
) -> None:
    store = GitStore(repo.root, "big")
    assert store.create()
    for extra in (0, 1):
        head = store.head()
        entries = chain.seal(head, [make_statement(10 + extra)])
        lines = sum(len(e.raw) + 1 for e in entries)
        data = os.urandom(gitstore._BIG_BATCH - lines + extra)
        sha = hashlib.sha256(data).hexdigest()
        loose = _loose(repo.root)
        store.append(entries, {sha: data}, expected=head)
        # Unpacked: the blobs, the trees and the commit as loose objects; packed: none.
        assert (_loose(repo.root) > loose) is (extra == 0)
        assert store.read_object(sha) == data


def test_a_failed_fast_import_leaves_none_of_its_debris_and_keeps_what_was_there(
    repo: Repo,
) -> None:
    store = GitStore(repo.root, "debris")
    assert store.create()
    base = store.commit()
    theirs = [
        repo.root / ".git" / "fast_import_crash_1",
        repo.root / ".git" / "objects" / "pack" / "tmp_pack_1",
    ]
    for path in theirs:
        path.write_bytes(b"not ours\n")
    try:
        with pytest.raises(GitError) as caught:
            store.append(chain.seal(None, [make_statement(1)]), {"ab\ncd": b"x"}, expected=None)
        assert str(caught.value).startswith(
            "git fast-import failed: fatal: Expected 'data n' command, found: cd"
        )
        assert sorted(repo.root.joinpath(".git").glob("fast_import_crash_*")) == theirs[:1]
        assert sorted(repo.root.joinpath(".git/objects/pack").glob("tmp_*")) == theirs[1:]
        assert store.commit() == base
    finally:
        for path in theirs:
            path.unlink()


# -- gitstore: reading entries and artifacts ----------------------------------------------------


def test_a_snapshot_is_every_entry_file_in_order_where_each_is_named(repo: Repo) -> None:
    head, segments = GitStore(repo.root).snapshot()
    files = repo.files(repo.tip)
    assert head == GitStore(repo.root).head()
    assert [(s.where, s.data) for s in segments] == [
        (f"sdl-ledger:{ENTRY1}", files[ENTRY1][1]),
        (f"sdl-ledger:{ENTRY3}", files[ENTRY3][1]),
    ]
    assert list(repo.view(repo.commits[0]).snapshot()[1]) == []


def test_an_entry_file_named_with_a_tab_or_a_byte_that_is_not_utf8_is_named_whole(
    repo: Repo,
) -> None:
    """git lists the names unquoted (`-z`): a forged file name is shown as it is, never a
    crash and never another part of it."""
    files = repo.files(repo.tip)
    odd = "entries/00000000/a\tb\udcff.jsonl"
    files[odd] = ("100644", b"forged\n")
    _, segments = repo.view(repo.commit(files, repo.tip)).snapshot()
    assert [s.where for s in segments] == [
        f"sdl-ledger:{ENTRY1}",
        f"sdl-ledger:{ENTRY3}",
        "sdl-ledger:entries/00000000/a\tb\ufffd.jsonl",
    ]


def test_an_entry_file_whose_blob_is_missing_is_named(repo: Repo) -> None:
    absent = hashlib.sha1(b"never stored").hexdigest()
    listing = f"100644 blob {absent}\t000000000001.jsonl\n"
    batch = git(repo.root, "mktree", "--missing", input=listing.encode())
    entries = git(repo.root, "mktree", input=f"040000 tree {batch}\t00000000\n".encode())
    tree = git(repo.root, "mktree", input=f"040000 tree {entries}\tentries\n".encode())
    commit = git(repo.root, "commit-tree", tree, "-m", "sdl-ledger")
    _, segments = repo.view(commit).snapshot()
    with pytest.raises(LedgerError) as caught:
        list(segments)
    assert str(caught.value) == (
        f"branch sdl-ledger of {repo.root}: {ENTRY1} is listed but its blob is missing"
    )


def test_artifacts_are_read_at_the_stores_commit_and_only_as_blobs(repo: Repo) -> None:
    before = repo.view(repo.commits[0])
    for store in (GitStore(repo.root), repo.view(repo.commits[1])):
        assert store.read_object(repo.report) == REPORT
        with store.object_reader() as reader:
            assert reader.read_object(repo.report) == REPORT
            assert reader.read_object("0" * 64) is None
            assert reader.read_object(repo.report) == REPORT  # in step after a miss
            assert reader.read("README.txt") == gitstore._README
    assert before.read_object(repo.report) is None
    with before.object_reader() as reader:
        assert reader.read_object(repo.report) is None
    files = repo.files(repo.tip)
    report = files.pop(object_path(repo.report))
    files[object_path(repo.report) + "/x"] = report  # the artifact's path is now a tree
    forged = repo.commit(files, repo.tip)
    with repo.view(forged).object_reader() as reader:
        assert reader.read_object(repo.report) is None
        assert reader.read(ENTRY1) == files[ENTRY1][1]


def test_the_branch_checked_out_in_a_work_tree_is_refused_by_name(
    repo: Repo, tmp_path: Path
) -> None:
    store = GitStore(repo.root, "checked-out")
    assert store.create()
    commit = store.commit() or ""
    other = tmp_path / "other"
    git(repo.root, "worktree", "add", "-q", str(other), "checked-out")
    try:
        for act in (
            lambda: GitStore(repo.root, "checked-out").snapshot(),
            lambda: GitStore(repo.root, "checked-out").create(),
        ):
            with pytest.raises(LedgerError) as caught:
                act()
            assert str(caught.value) == (
                f"the ledger branch 'checked-out' is checked out in the work tree {other}: the "
                "ledger must never be a working branch (the next commit there would land on "
                "it, or delete its entries). Keep the ledger on a branch of its own: `[ledger] "
                "branch` / `init --branch NAME` (default sdl-ledger), and check out another "
                f"branch in {other}"
            )
        # A fixed view reads a commit, not the branch: nothing can land on it.
        assert list(GitStore(repo.root, "checked-out", at=commit).snapshot()[1]) == []
        gitstore.check_branch(repo.root, "checked")  # a prefix of the name is another branch
    finally:
        git(repo.root, "worktree", "remove", "--force", str(other))
