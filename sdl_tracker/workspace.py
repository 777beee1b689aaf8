"""Where a command works: the repository, its configuration and its ledger store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sdl_tracker import config as config_mod
from sdl_tracker import git
from sdl_tracker.config import Config
from sdl_tracker.errors import GitError, LedgerError
from sdl_tracker.ledger import DirStore, GitStore
from sdl_tracker.ledger.store import Store


@dataclass(frozen=True)
class Workspace:
    """A repository (optional for directory ledgers), its config and ledger overrides."""

    root: Path | None
    config: Config
    ledger_dir: Path | None = None
    ledger_url: str | None = None

    def repo(self) -> Path:
        """The repository root, or GitError when the command needs one and there is none."""
        if self.root is None:
            raise GitError(
                "this command needs a git repository: run it inside one or pass --repo PATH"
            )
        return self.root

    def store(self) -> Store:
        """The ledger store: --ledger URL, --ledger-dir, config `ledger.dir`/`url`, or the branch."""
        url = self.ledger_url or self.config.ledger_url
        if url:
            raise LedgerError(
                f"ledger URL {url!r}: PostgreSQL ledgers are not supported by this version; "
                "use the git branch (default) or --ledger-dir PATH"
            )
        directory = self.ledger_dir or self.config.ledger_dir
        if directory is not None:
            return DirStore(directory)
        return GitStore(self.repo(), self.config.ledger_branch)


def open_workspace(
    repo: Path, *, ledger_dir: Path | None = None, ledger_url: str | None = None
) -> Workspace:
    """Find the repository containing `repo` and load its configuration.

    Outside a git repository this still works when a directory ledger is given, so that
    `ledger verify --ledger-dir` needs nothing else.
    """
    try:
        root: Path | None = git.toplevel(repo)
    except GitError:
        if ledger_dir is None and ledger_url is None:
            raise
        root = None
    cfg = config_mod.load(root) if root is not None else Config(root=repo)
    return Workspace(root=root, config=cfg, ledger_dir=ledger_dir, ledger_url=ledger_url)
