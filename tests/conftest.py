from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import USER_CACHE, git
from helpers import make_statement as _make_statement
from ledger.pgcluster import Cluster, ClusterUnavailable, start

from sdl_tracker.models import Statement

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2024-05-01T09:30:00+00:00",
    "GIT_COMMITTER_DATE": "2024-05-01T09:30:00+00:00",
}


@pytest.fixture(scope="session", autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The ledger memos of directory and PostgreSQL stores (under XDG_CACHE_HOME) stay in the
    run's temporary directory instead of piling up in the user's ~/.cache. pip reads
    XDG_CACHE_HOME too: its cache stays where it was (PIP_CACHE_DIR), so the hook tests' wheels
    come from it as before; the pre-commit framework runs get the user's XDG_CACHE_HOME back
    (tests/hooks/framework.py)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIP_CACHE_DIR", os.environ.get("PIP_CACHE_DIR") or f"{USER_CACHE}/pip")
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Isolate git from the user's and the system's configuration, with a fixed identity."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def git_repo(tmp_path: Path, git_env: None) -> Path:
    """A real git repository on branch `main` with one commit and a fixed identity."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    git(root, "config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    (root / "README.md").write_text("# demo\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial commit")
    return root


@pytest.fixture
def make_statement() -> Callable[..., Statement]:
    """`make_statement(i, artifacts=(), *, note=None)`: a realistic ~500-byte statement."""
    return _make_statement


# A real PostgreSQL for the central-ledger tests (tests/ledger, the organisation view, `ci
# --ledger`): one throw-away cluster per test session, started by `pgcluster.start()` (initdb +
# pg_ctl in a temporary directory, as the `postgres` user when we are root) and stopped at the
# end. Tests that need it fail (not skip) when it cannot start under CI=true; elsewhere they
# skip, saying why.
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = start()
    except (ClusterUnavailable, OSError, subprocess.SubprocessError) as e:
        message = f"a throw-away PostgreSQL cluster could not start: {e}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message + " (install Debian's postgresql package to run these tests)")
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_db(pg_cluster: Cluster) -> str:
    """The name of a fresh, empty database in the cluster."""
    import psycopg

    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture
def pg_url(pg_cluster: Cluster, pg_db: str) -> str:
    """A superuser URL (Unix socket, no password) to a fresh, empty database."""
    return pg_cluster.url(pg_db)
