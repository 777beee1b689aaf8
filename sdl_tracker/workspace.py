"""Where a command works: the repository, its configuration and its ledger store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import config as config_mod
from sdl_tracker.config import Config
from sdl_tracker.errors import GitError, LedgerError
from sdl_tracker.gitdata import git
from sdl_tracker.ledger import DirStore, GitStore
from sdl_tracker.ledger.store import Store

if TYPE_CHECKING:
    from sdl_tracker.ledger.pgstore import PgStore

_PG_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Workspace:
    """A repository (optional for directory ledgers), its config and ledger overrides."""

    root: Path | None
    config: Config
    ledger_dir: Path | None = None
    ledger_url: str | None = None
    repo_name: str | None = None
    """The repository's chain in a central (PostgreSQL) ledger: --repo-name NAME."""

    def repo(self) -> Path:
        """The repository root, or GitError when the command needs one and there is none."""
        if self.root is None:
            raise GitError(
                "this command needs a git repository: run it inside one or pass --repo PATH"
            )
        return self.root

    def init_hint(self) -> str:
        """The `sdl-tracker init` command that creates this workspace's ledger, with the flags
        the user gave (a URL's password left out)."""
        words = ["sdl-tracker", "init"]
        if self.ledger_url:
            from urllib.parse import urlsplit, urlunsplit

            parts = urlsplit(self.ledger_url)
            netloc = parts.netloc.rsplit("@", 1)
            if len(netloc) == 2 and ":" in netloc[0]:
                netloc[0] = netloc[0].split(":", 1)[0]
            words += ["--ledger", urlunsplit(parts._replace(netloc="@".join(netloc)))]
        elif self.ledger_dir is not None:
            words += ["--ledger-dir", str(self.ledger_dir)]
        if self.repo_name:
            words += ["--repo-name", self.repo_name]
        return " ".join(words)

    def no_ledger(self, location: str) -> LedgerError:
        """The error for a ledger that does not exist yet, naming the command that creates it."""
        return LedgerError(f"no ledger at {location}: run `{self.init_hint()}` first")

    def store(self) -> Store:
        """The store: --ledger URL, --ledger-dir, config `ledger.dir`/`url`, else the branch."""
        url = self.ledger_url or self.config.ledger_url
        if url:
            return self.pg_store(url)
        return self.local_store()

    def local_store(self) -> Store:
        """The repository's own ledger: --ledger-dir / `ledger.dir`, else the git branch."""
        directory = self.ledger_dir or self.config.ledger_dir
        if directory is not None:
            return DirStore(directory)
        return GitStore(self.repo(), self.config.ledger_branch)

    def pg_store(self, url: str | None = None) -> PgStore:
        """This repository's chain in the PostgreSQL ledger at `url` (default: the configured)."""
        url = url or self.ledger_url or self.config.ledger_url
        if not url:
            raise LedgerError(
                "no PostgreSQL ledger URL: pass one (postgresql://USER@HOST/DBNAME) with "
                "--to/--from, --ledger, SDL_TRACKER_LEDGER or [ledger] url"
            )
        if not url.startswith(_PG_SCHEMES):
            from sdl_tracker.ledger.pgschema import redact

            raise LedgerError(
                f"ledger URL {redact(url)!r}: unsupported scheme; expected "
                "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (or use --ledger-dir PATH)"
            )
        from sdl_tracker.ledger.pgstore import PgStore

        return PgStore(url, self.chain_name())

    def chain_name(self) -> str:
        """--repo-name / `ledger.repo_name`, else origin's last path component, else the dir."""
        name = self.repo_name or self.config.ledger_repo_name
        if name:
            return name
        if self.root is None:
            raise LedgerError(
                "name this repository's chain in the central ledger with --repo-name NAME "
                "(or SDL_TRACKER_REPO_NAME): there is no git repository here to take it from"
            )
        proc = git.run(self.root, "config", "--get", "remote.origin.url", check=False)
        origin = proc.stdout.decode("utf-8", "replace").strip().rstrip("/")
        if origin:
            last = origin.rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
            if last:
                return last
        return self.root.name


def open_workspace(
    repo: Path,
    *,
    ledger_dir: Path | None = None,
    ledger_url: str | None = None,
    repo_name: str | None = None,
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
    return Workspace(
        root=root, config=cfg, ledger_dir=ledger_dir, ledger_url=ledger_url, repo_name=repo_name
    )
