"""What `init` reads about a repository before it writes anything: where it is, who commits, its
remotes, its tags and its tracked files — through GitPython's object model.

GitPython is imported here, inside the function, and only one-time commands call it: its import
costs more than a hundred milliseconds, which hooks and collectors must not pay. Everything that
runs on every commit or every CI job calls the `git` program through `gitdata.git`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sdl_tracker.errors import GitError


@dataclass(frozen=True)
class Repository:
    """A work tree as `init` sees it."""

    root: Path
    identity: str | None
    """`Name <email>` from git's configuration, None when neither is set."""
    remotes: tuple[tuple[str, str], ...]
    """(name, first URL) of each remote."""
    tags: tuple[str, ...]
    """Every tag name, sorted."""
    files: tuple[str, ...] = ()
    """Every tracked file (repository-relative POSIX paths), as `git ls-files` lists them."""


def inspect(path: Path) -> Repository:
    """The repository containing `path` (its work tree), or GitError saying what to do."""
    import git as gitpython

    try:
        repo = gitpython.Repo(path, search_parent_directories=True)
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError) as e:
        raise GitError(
            f"{path}: not inside a git repository: run the command inside one, pass "
            "--repo PATH, or create one with `git init`"
        ) from e
    with repo:
        if repo.bare or repo.working_tree_dir is None:
            raise GitError(f"{path}: a bare repository has no work tree: use a clone of it")
        with repo.config_reader() as config:
            name = str(config.get_value("user", "name", default="")).strip()
            email = str(config.get_value("user", "email", default="")).strip()
        remotes = tuple((r.name, next(iter(r.urls), "")) for r in repo.remotes)
        tags = tuple(sorted(t.name for t in repo.tags))
        listed = repo.git.ls_files("-z", "--cached")
        files = tuple(sorted(f for f in listed.split("\0") if f))
        return Repository(
            root=Path(repo.working_tree_dir),
            identity=f"{name} <{email}>" if name or email else None,
            remotes=remotes,
            tags=tags,
            files=files,
        )
