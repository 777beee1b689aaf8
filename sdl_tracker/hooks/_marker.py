"""The marker the commit-msg hook leaves for post-commit: proof that the hooks ran.

`git commit --no-verify` skips the pre-commit and commit-msg hooks but not post-commit, so
post-commit (sdl-record) compares the committed tree with the tree the commit-msg hook saw.
The marker lives in the git directory (`.git/sdl-tracker/hooks-ran`), never in the work tree.
"""

from __future__ import annotations

from pathlib import Path

from sdl_tracker.gitdata import git


def path(root: Path) -> Path:
    where = Path(git.out(root, "rev-parse", "--git-path", "sdl-tracker/hooks-ran"))
    return where if where.is_absolute() else root / where


def write(root: Path) -> None:
    """Remember the tree about to be committed (the index as the commit-msg hook sees it)."""
    tree = git.out(root, "write-tree")
    target = path(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(tree + "\n")


def matches(root: Path, tree: str) -> bool:
    """Whether the commit-msg hook ran for a commit with this tree (consumes the marker)."""
    target = path(root)
    try:
        seen = target.read_text().strip()
    except FileNotFoundError:
        return False
    target.unlink()
    return seen == tree
