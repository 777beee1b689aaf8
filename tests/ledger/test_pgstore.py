"""The PostgreSQL store against a real throw-away cluster: same bytes as git, CAS, tamper, roles."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from helpers import git, make_statement

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.errors import ChainError, LedgerError
from sdl_tracker.ledger import GitStore, pgschema
from sdl_tracker.ledger.pgstore import PgStore
from sdl_tracker.workspace import open_workspace

from .conftest import superuser
from .pgcluster import Cluster

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


def _fill(store: PgStore | GitStore, count: int, start: int = 0, batch: int = 4) -> None:
    report, data = ledger.artifact("bandit.json", b'{"results": []}')
    for first in range(start, start + count, batch):
        statements = [
            make_statement(i, [report] if i % 3 == 0 else [])
            for i in range(first, min(first + batch, start + count))
        ]
        ledger.append(store, statements, {report.sha256: data})


def _pg(url: str, repo: str = "demo") -> PgStore:
    store = PgStore(url, repo)
    store.create()
    return store


def test_round_trip(pg_url: str) -> None:
    store = PgStore(pg_url, "demo")
    assert not store.exists()
    assert store.create() is True
    assert store.exists() and store.create() is False
    assert store.head() is None and list(ledger.entries(store)) == []
    pdf, data = ledger.artifact("pentest.pdf", b"%PDF-1.7 report")
    sealed = ledger.append(store, [make_statement(0, [pdf]), make_statement(1)], {pdf.sha256: data})
    sealed += ledger.append(store, [make_statement(2)])
    read = list(ledger.entries(store))
    assert [e.raw for e in read] == [e.raw for e in sealed]
    assert read[0].statement() == make_statement(0, [pdf])
    assert store.head() == ledger.Head(seq=3, hash=sealed[-1].hash)
    assert store.read_object(pdf.sha256) == data and store.read_object("0" * 64) is None
    report = ledger.verify(store)
    assert (report.entries, report.objects) == (3, 1)
    assert [c.repo for c in store.repositories()] == ["demo"]


def test_same_bytes_and_hashes_as_the_git_store(pg_url: str, git_repo: Path) -> None:
    pg, gitstore = _pg(pg_url), GitStore(git_repo)
    gitstore.create()
    for store in (pg, gitstore):
        _fill(store, 10)
    assert [e.raw for e in ledger.entries(pg)] == [e.raw for e in ledger.entries(gitstore)]
    assert pg.head() == gitstore.head() and pg.head() is not None


def test_schema_is_versioned_and_created_once(pg_url: str) -> None:
    for name in ("a", "b"):
        _pg(pg_url, name)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM sdl_tracker.schema_version").fetchall()
    assert rows == [(version,) for version, _ in pgschema.MIGRATIONS]


_WORKER = """
import sys, time
from pathlib import Path
from helpers import make_statement
from sdl_tracker import ledger
from sdl_tracker.ledger.pgstore import PgStore

url, repo, worker, batches, go = sys.argv[1:]
store = PgStore(url, repo)
shared, data = ledger.artifact("shared.txt", b"one artifact for the whole organisation")
while not Path(go).exists():
    time.sleep(0.01)
for b in range(int(batches)):
    statements = [
        make_statement(i, [shared] if i == 0 else [], note=f"{worker}/{b}/{i}") for i in range(3)
    ]
    ledger.append(store, statements, {shared.sha256: data})
"""


def test_eight_processes_two_repositories(pg_url: str, tmp_path: Path) -> None:
    repos, batches = ("alpha", "beta"), 12
    for repo in repos:
        _pg(pg_url, repo)
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, pg_url, repos[w % 2], f"w{w}", str(batches), str(go)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    time.sleep(0.5)
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    for r, repo in enumerate(repos):
        store = PgStore(pg_url, repo)
        assert ledger.verify(store).entries == 4 * batches * 3
        notes = {e.statement().predicate.note for e in ledger.entries(store)}
        expected = {
            f"w{w}/{b}/{i}" for w in range(r, 8, 2) for b in range(batches) for i in range(3)
        }
        assert notes == expected
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM sdl_tracker.objects").fetchone() == (1,)


def _verify(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["ledger", "verify", "--ledger", url, "--repo-name", "demo", "--color", "never"])
    return code, capsys.readouterr().err


def test_triggers_refuse_rewriting_history(pg_url: str) -> None:
    _fill(_pg(pg_url), 3)
    for sql in (
        "UPDATE sdl_tracker.entries SET raw = raw WHERE seq = 2",
        "DELETE FROM sdl_tracker.entries WHERE seq = 3",
        "UPDATE sdl_tracker.heads SET seq = 2",
        "DELETE FROM sdl_tracker.objects",
        "TRUNCATE sdl_tracker.entries CASCADE",
    ):
        with psycopg.connect(pg_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)


@pytest.mark.parametrize(
    ("sql", "entry", "reason"),
    [
        (
            "UPDATE sdl_tracker.entries SET raw = overlay(raw placing 'X'::bytea from 400) "
            "WHERE seq = 4",
            4,
            "hash does not match its content",
        ),
        ("DELETE FROM sdl_tracker.entries WHERE seq = 5", 5, "broken link"),
        ("DELETE FROM sdl_tracker.entries WHERE seq = 10", 10, "head marker names entry 10"),
        ("UPDATE sdl_tracker.objects SET data = 'forged'", 1, "does not match its content"),
    ],
)
def test_tampering_behind_the_tools_back_is_detected(
    pg_cluster: Cluster,
    pg_db: str,
    sql: str,
    entry: int,
    reason: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = pg_cluster.url(pg_db)
    _fill(_pg(url), 10)
    assert _verify(url, capsys)[0] == 0
    with superuser(pg_cluster, pg_db) as conn:
        conn.execute("SET session_replication_role = replica")  # a superuser bypassing triggers
        assert conn.execute(sql).rowcount >= 1
    code, err = _verify(url, capsys)
    assert code == 1
    assert f"entry {entry} (" in err and reason in err
    with pytest.raises(ChainError) as info:
        ledger.verify(PgStore(url, "demo"))
    assert info.value.seq == entry


def _git_ledger(root: Path, count: int) -> GitStore:
    store = GitStore(root)
    store.create()
    _fill(store, count)
    return store


def _ledger_cmd(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["ledger", *args, "--color", "never"])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_push_and_pull_are_idempotent(
    pg_url: str, git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _git_ledger(git_repo, 9)
    code, err = _ledger_cmd(capsys, "push", "--to", pg_url, "-C", str(git_repo))
    assert code == 0, err
    assert "copied 9 entries" in err and "repository repo" in err
    pg = PgStore(pg_url, "repo")
    assert [e.raw for e in ledger.entries(pg)] == [e.raw for e in ledger.entries(source)]
    code, err = _ledger_cmd(capsys, "push", "--to", pg_url, "-C", str(git_repo))
    assert code == 0 and "up to date" in err
    _fill(pg, 3, start=100)  # CI appended straight to PostgreSQL

    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "-q", "-b", "main")
    args = ("pull", "--from", pg_url, "-C", str(clone), "--repo-name", "repo", "--format", "json")
    code, err = _ledger_cmd(capsys, *args)
    assert code == 0, err
    pulled = GitStore(clone)
    assert [e.raw for e in ledger.entries(pulled)] == [e.raw for e in ledger.entries(pg)]
    assert pulled.head() == pg.head()
    code, out = _ledger_cmd(capsys, *args)
    assert code == 0 and '"copied": 0' in out

    code, err = _ledger_cmd(capsys, "push", "--to", pg_url, "-C", str(git_repo))
    assert code == 0 and "holds 3 entries the source lacks" in err
    code, err = _ledger_cmd(capsys, "pull", "--from", pg_url, "-C", str(git_repo))
    assert code == 0 and "copied 3 entries" in err
    assert source.head() == pg.head()


def test_pull_json_output(pg_url: str, git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(_pg(pg_url, "repo"), 2)
    code = main(["ledger", "pull", "--from", pg_url, "-C", str(git_repo), "--format", "json"])
    assert code == 0
    out = capsys.readouterr().out
    assert '"copied": 2' in out and '"entries": 2' in out and '"ahead": 0' in out


def test_divergent_history_is_refused(
    pg_url: str, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _git_ledger(git_repo, 5)
    assert _ledger_cmd(capsys, "push", "--to", pg_url, "-C", str(git_repo))[0] == 0
    pg = PgStore(pg_url, "repo")
    ledger.append(source, [make_statement(50)])
    ledger.append(pg, [make_statement(60)])
    before = pg.head()
    for verb, flag in (("push", "--to"), ("pull", "--from")):
        code, err = _ledger_cmd(capsys, verb, flag, pg_url, "-C", str(git_repo))
        assert code == 2
        assert "diverge at entry 6" in err and "entries 1..5 agree" in err
    assert pg.head() == before and source.head() is not None and source.head().seq == 6


def test_pull_refuses_a_tampered_source(
    pg_cluster: Cluster, pg_db: str, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_cluster.url(pg_db)
    _fill(_pg(url, "repo"), 4)
    with superuser(pg_cluster, pg_db) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM sdl_tracker.entries WHERE seq = 2")
    code, err = _ledger_cmd(capsys, "pull", "--from", url, "-C", str(git_repo))
    assert code == 1 and "entry 2" in err and "source PostgreSQL ledger" in err
    assert not GitStore(git_repo).exists()


def test_init_and_record_straight_into_postgresql(
    pg_url: str, git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(git_repo, "remote", "add", "origin", "https://forge.example/acme/widget.git")
    assert main(["init", "-C", str(git_repo), "--ledger", pg_url]) == 0
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF pentest")
    code = main(["record", "pentest_report", str(report), "-C", str(git_repo), "--ledger", pg_url])
    assert code == 0
    assert "repository widget" in capsys.readouterr().err
    assert [e.statement().predicate.kind for e in ledger.entries(PgStore(pg_url, "widget"))] == [
        "pentest_report"
    ]
    assert not GitStore(git_repo).exists()


def test_chain_name_defaults(git_repo: Path) -> None:
    assert open_workspace(git_repo).chain_name() == "repo"
    git(git_repo, "remote", "add", "origin", "git@forge.example:acme/gadget.git")
    assert open_workspace(git_repo).chain_name() == "gadget"
    assert open_workspace(git_repo, repo_name="explicit").chain_name() == "explicit"
    (git_repo / ".sdl-tracker.toml").write_text('[ledger]\nrepo_name = "configured"\n')
    assert open_workspace(git_repo).chain_name() == "configured"
    with pytest.raises(LedgerError, match="not usable"):
        open_workspace(git_repo, repo_name="bad name").pg_store("postgresql:///x")


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main([*argv, "--color", "never"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://sdl:secret@127.0.0.1:{_free_port()}/sdl"
    err = _error(
        capsys, "ledger", "verify", "--ledger", url, "--repo-name", "x", "-C", str(tmp_path)
    )
    assert "cannot connect to the PostgreSQL ledger" in err and "server is running" in err
    assert "secret" not in err and "sdl:***@127.0.0.1" in err


def test_wrong_password(
    pg_cluster: Cluster, pg_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with superuser(pg_cluster, pg_db) as conn:
        conn.execute(f"CREATE ROLE wrongpw_{pg_db} LOGIN PASSWORD 'right'")
    url = pg_cluster.tcp_url(pg_db, f"wrongpw_{pg_db}", "wrong")
    err = _error(capsys, "ledger", "log", "--ledger", url, "--repo-name", "x", "-C", str(tmp_path))
    assert "password authentication failed" in err and "Check the user name and password" in err
    assert ":wrong@" not in err


def test_newer_schema_writes_nothing(
    pg_url: str, git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _pg(pg_url, "repo")
    _git_ledger(git_repo, 2)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO sdl_tracker.schema_version (version, tool_version) VALUES (99, 'x')"
        )
    report = tmp_path / "r.txt"
    report.write_text("report")
    err = _error(
        capsys, "record", "pentest_report", str(report), "-C", str(git_repo), "--ledger", pg_url
    )
    assert "written by a newer sdl-tracker" in err and "upgrade" in err
    assert "newer sdl-tracker" in _error(
        capsys, "ledger", "push", "--to", pg_url, "-C", str(git_repo)
    )
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM sdl_tracker.entries").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM sdl_tracker.objects").fetchone() == (0,)


def test_missing_ledger_or_repository(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ("--ledger", pg_url, "--repo-name", "nosuch", "-C", str(tmp_path))
    assert "schema sdl_tracker is missing" in _error(capsys, "ledger", "log", *common)
    _pg(pg_url, "present")
    err = _error(capsys, "ledger", "verify", *common)
    assert "no chain for repository 'nosuch'" in err and "known: present" in err
    err = _error(capsys, "ledger", "log", "--ledger", "mysql://h/db", "-C", str(tmp_path))
    assert "unsupported scheme" in err
    assert "--repo-name" in _error(capsys, "ledger", "log", "--ledger", pg_url, "-C", str(tmp_path))


def test_least_privilege_roles(pg_cluster: Cluster, pg_db: str) -> None:
    manual = (ROOT / "docs" / "concepts" / "ledger.md").read_text(encoding="utf-8")
    assert pgschema.grants() in manual
    owner, appender, reader = f"own_{pg_db}", f"app_{pg_db}", f"read_{pg_db}"
    with superuser(pg_cluster, pg_db) as conn:  # the manual's steps, with these role names
        conn.execute(f"CREATE ROLE {owner} LOGIN PASSWORD 'o'")
        conn.execute(f'GRANT CREATE ON DATABASE "{pg_db}" TO {owner}')
        conn.execute(f"CREATE ROLE {appender} LOGIN PASSWORD 'a'")
        conn.execute(f"CREATE ROLE {reader} LOGIN PASSWORD 'r'")
    owner_url = pg_cluster.tcp_url(pg_db, owner, "o")
    assert PgStore(owner_url, "repo").create()
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(pgschema.grants(appender, reader).encode())
    app_url = pg_cluster.tcp_url(pg_db, appender, "a")
    store = PgStore(app_url, "repo")
    _fill(store, 5)
    assert ledger.verify(PgStore(pg_cluster.tcp_url(pg_db, reader, "r"), "repo")).entries == 5
    with pytest.raises(LedgerError, match="lacks the privilege"):
        PgStore(app_url, "newrepo").create()
    with pytest.raises(LedgerError, match="lacks the privilege"):
        _fill(PgStore(pg_cluster.tcp_url(pg_db, reader, "r"), "repo"), 1, start=20)
    with psycopg.connect(app_url) as conn:
        for sql in (
            "UPDATE sdl_tracker.entries SET raw = raw",
            "DELETE FROM sdl_tracker.entries",
            "DELETE FROM sdl_tracker.heads",
            "UPDATE sdl_tracker.heads SET repo = 'x'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()
    assert ledger.verify(PgStore(app_url, "repo")).entries == 5
