"""The marker the commit-msg hook leaves for post-commit: proof that the hooks ran.

`git commit --no-verify` skips the pre-commit and commit-msg hooks but not post-commit, so
post-commit (sdl-record) compares the committed tree with the tree the commit-msg hook saw.
The marker lives in the git directory (`.git/sdl-tracker/hooks-ran`), never in the work tree.
"""

from __future__ import annotations

from pathlib import Path

from sdl_tracker.gitdata import git

_NAME = "sdl-tracker/hooks-ran"


def path(root: Path) -> Path:
    where = Path(git.out(root, "rev-parse", "--git-path", _NAME))
    return where if where.is_absolute() else root / where


def locate() -> tuple[Path, Path]:
    """The work tree root (as `_base.repo_root`) and the marker's path, from one git call."""
    cwd = Path.cwd()
    proc = git.run(cwd, "rev-parse", "--show-toplevel", "--git-path", _NAME, check=False)
    lines = proc.stdout.decode().splitlines()
    if proc.returncode != 0 or len(lines) != 2:  # not a repository (its error says so), or a
        root = git.toplevel(cwd)  # path with a newline in it: one question at a time
        return root, path(root)
    where = Path(lines[1])
    return Path(lines[0]), where if where.is_absolute() else cwd / where


def write(root: Path, target: Path | None = None) -> None:
    """Remember the tree about to be committed (the index as the commit-msg hook sees it)."""
    tree = git.out(root, "write-tree")
    target = path(root) if target is None else target
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
