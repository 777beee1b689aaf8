"""Tests written for mutants of gitstore.py and history.py that the other ledger tests let
survive (benchmarks/mutation.sh, target `stores`; the survivors and the reasons for the rest
are in docs/testing.md).

One real repository per module: a ledger branch of three commits (the README, then two
batches), and tampered commits made beside it with git plumbing, as an attacker with write
access would, read through a fixed view (`GitStore(root, at=commit)`) so the branch itself
stays as it is for the next test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.errors import ChainError, GitError, HistoryError
from sdl_tracker.ledger import chain, history
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
