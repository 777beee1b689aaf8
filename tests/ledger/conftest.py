"""Helpers for the central-ledger tests.

The PostgreSQL fixtures (`pg_cluster`, `pg_db`, `pg_url`: one throw-away cluster per test
session) live in tests/conftest.py, so that tests outside tests/ledger (the organisation view,
`ci --ledger`) share the same cluster.
"""

from __future__ import annotations

import psycopg

from .pgcluster import Cluster


def superuser(cluster: Cluster, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(cluster.url(dbname), autocommit=True)
