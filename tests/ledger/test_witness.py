"""The central PostgreSQL ledger witnesses every repository's history: a `ledger push` refused
because the histories diverge (a rewound branch appended to again) is recorded there, the record
cannot be removed, and `org status` flags the repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from helpers import make_statement

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import pgschema
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.pgstore import PgStore


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--color", "never"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rewound_and_appended(root: Path) -> GitStore:
    """The branch's last commit dropped (`update-ref sdl-ledger sdl-ledger~1`, the memo of this
    machine gone too), then a new entry appended where the dropped one was."""
    store = GitStore(root)
    subprocess.run(
        ["git", "-C", str(root), "update-ref", "refs/heads/sdl-ledger", "sdl-ledger~1"], check=True
    )
    (root / ".git" / "sdl-tracker" / "verified-sdl-ledger").unlink()
    ledger.append(store, [make_statement(99, note="rewritten")])
    return store


def test_a_refused_push_is_witnessed_and_flagged(
    pg_url: str, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = GitStore(git_repo)
    store.create()
    for i in range(3):
        ledger.append(store, [make_statement(i)])
    assert _run(capsys, "ledger", "push", "--to", pg_url, "-C", str(git_repo))[0] == 0
    central = PgStore(pg_url, "repo")
    dropped = central.head()
    assert dropped is not None and dropped.seq == 3
    rewritten = _rewound_and_appended(git_repo).head()
    assert rewritten is not None and rewritten.seq == 3 and rewritten != dropped

    code, _, err = _run(capsys, "ledger", "push", "--to", pg_url, "-C", str(git_repo))
    assert code == 2
    assert "diverge at entry 3" in err
    assert "recorded in the central ledger (table sdl_tracker.refusals)" in err
    assert central.head() == dropped  # nothing overwritten

    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT repo, direction, seq, central_hash, other_hash, other FROM sdl_tracker.refusals"
        ).fetchall()
        assert rows == [
            ("repo", "push", 3, dropped.hash, rewritten.hash, f"branch sdl-ledger of {git_repo}")
        ]
        for sql in ("DELETE FROM sdl_tracker.refusals", "TRUNCATE sdl_tracker.refusals"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(sql)

    code, out, _ = _run(capsys, "org", "status", "--ledger", pg_url, "--format", "json")
    assert code == 0
    found = json.loads(out)
    (row,) = found["repositories"]
    assert row["gate"] == "diverged" and found["totals"]["diverged"] == 1
    (sentence,) = row["refused_copies"]
    assert "a ledger push was refused on " in sentence
    assert f"branch sdl-ledger of {git_repo} diverge at entry 3" in sentence
    code, _, err = _run(capsys, "org", "status", "--ledger", pg_url)
    assert code == 0 and "1 DIVERGED" in err and "repo: a ledger push was refused" in err


def test_a_refused_pull_is_witnessed_too(
    pg_url: str, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = GitStore(git_repo)
    local.create()
    ledger.append(local, [make_statement(1, note="local")])
    central = PgStore(pg_url, "repo")
    central.create()
    ledger.append(central, [make_statement(2, note="central")])
    code, _, err = _run(capsys, "ledger", "pull", "--from", pg_url, "-C", str(git_repo))
    assert code == 2 and "diverge at entry 1" in err
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT direction, seq FROM sdl_tracker.refusals").fetchone()
    assert row == ("pull", 1)


def test_a_version_2_schema_is_upgraded_with_the_witness_table(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        for version, sql in pgschema.MIGRATIONS[:2]:
            conn.execute(sql.encode())
            conn.execute(
                "INSERT INTO sdl_tracker.schema_version (version, tool_version) VALUES (%s, 'x')",
                (version,),
            )
    store = PgStore(pg_url, "old")
    store.create()  # the owner's session migrates
    with psycopg.connect(pg_url, autocommit=True) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM sdl_tracker.schema_version")]
        assert versions == [1, 2, 3, 4]
        assert conn.execute("SELECT count(*) FROM sdl_tracker.refusals").fetchone() == (0,)


def test_a_version_3_schema_gets_the_issues_index_once(pg_url: str) -> None:
    """Version 4 on a version 3 schema whose administrator already made the index by hand (as
    the documentation shows): the migration succeeds, and running it again changes nothing."""
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        for version, sql in pgschema.MIGRATIONS[:3]:
            conn.execute(sql.encode())
            conn.execute(
                "INSERT INTO sdl_tracker.schema_version (version, tool_version) VALUES (%s, 'x')",
                (version,),
            )
        conn.execute(
            "CREATE INDEX entries_issue_records ON sdl_tracker.entries (repo, seq) "
            f"WHERE {pgschema.ISSUE_RECORD}".encode()
        )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pgschema.migrate(conn, "test") == 3
        assert pgschema.migrate(conn, "test") == 4  # already there: nothing more
        versions = [r[0] for r in conn.execute("SELECT version FROM sdl_tracker.schema_version")]
        indexes = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'entries_issue_records'"
        ).fetchone()
    assert versions == [1, 2, 3, 4] and indexes == (1,)
