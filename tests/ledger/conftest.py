"""A real PostgreSQL for the central-ledger tests: one throw-away cluster per test session.

Tests that need it fail (not skip) when it cannot start under CI=true; elsewhere they skip,
saying why. The cluster is started by `pgcluster.start()` (initdb + pg_ctl in a temporary
directory, as the `postgres` user when we are root) and stopped at the end of the session.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator

import psycopg
import pytest

from .pgcluster import Cluster, ClusterUnavailable, start

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


def superuser(cluster: Cluster, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(cluster.url(dbname), autocommit=True)


@pytest.fixture
def pg_db(pg_cluster: Cluster) -> str:
    """The name of a fresh, empty database in the cluster."""
    name = f"t{os.getpid()}_{next(_databases)}"
    with superuser(pg_cluster, "postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture
def pg_url(pg_cluster: Cluster, pg_db: str) -> str:
    """A superuser URL (Unix socket, no password) to a fresh, empty database."""
    return pg_cluster.url(pg_db)
