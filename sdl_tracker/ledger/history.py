"""The git store's own history: every commit of the ledger branch only adds files.

A ledger commit adds one entry file per batch and the artifacts it names. A commit that
modifies, deletes, renames or changes the mode of any file, or that replaces the tree with an
empty one, is tampering even when the chain left at the tip verifies (a plain `git commit` that
deletes `entries/` leaves a valid, empty ledger).
"""

from __future__ import annotations

import re

from sdl_tracker.errors import ChainError, GitError, HistoryError
from sdl_tracker.gitdata import git
from sdl_tracker.ledger.gitstore import GitStore

_CHANGES = {"M": "modified", "D": "deleted", "T": "changed in type", "C": "copied", "R": "renamed"}
_ENTRY_FILE = re.compile(r"^entries/\d{8}/(\d{12})\.jsonl$")


def check(store: GitStore, since: str | None = None) -> int:
    """Walk the branch (from `since`, exclusive, when given) and return the commits read.

    Raises HistoryError naming the first commit that does more than add files, and the path.
    """
    span = f"{since}..{store.ref}" if since else store.ref
    proc = git.run(
        store.root,
        "log",
        "--reverse",
        "--first-parent",
        "-m",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--format=commit %H",
        span,
        "--",
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(
            f"{store.location}: git log failed: {proc.stderr.decode('utf-8', 'replace').strip()}"
        )
    commits = 0
    commit = ""
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("commit "):
            commit, commits = line[len("commit ") :], commits + 1
        elif line.startswith(":"):
            meta, _, path = line.partition("\t")
            change = meta.split()[-1][:1]
            if change != "A":
                raise HistoryError(_seq(path), commit, path, _CHANGES.get(change, change))
    return commits


def added_only(store: GitStore, old: str, new: str) -> list[str] | None:
    """The files added from commit `old` to `new`; HistoryError when anything else changed.

    None when git no longer has `old`: the caller must then re-read every entry.
    """
    if old == new:
        return []
    if _is_ancestor(store, new, old):
        raise ChainError(
            0,
            f"commit {new}",
            f"the branch was moved back from {old[:12]}…, verified here earlier, to its "
            f"ancestor {new[:12]}…: the entries after it were dropped (rewound)",
        )
    proc = git.run(
        store.root, "diff-tree", "-r", "--no-renames", "--no-abbrev", old, new, check=False
    )
    if proc.returncode != 0:
        return None
    added = []
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        meta, _, path = line.partition("\t")
        change = meta.split()[-1][:1]
        if change != "A":
            where = f"{new} (since {old[:12]}, verified here earlier)"
            raise HistoryError(_seq(path), where, path, _CHANGES.get(change, change))
        added.append(path)
    return added


def _is_ancestor(store: GitStore, a: str, b: str) -> bool:
    return git.run(store.root, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def _seq(path: str) -> int:
    match = _ENTRY_FILE.match(path)
    return int(match.group(1)) if match else 0
