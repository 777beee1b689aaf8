"""`sdl-tracker org status|export` and `ci --ledger` against a real PostgreSQL cluster.

Repositories are real git repositories with real gate verdicts (`record` attestations, `gate`,
`waive`), copied into the central ledger with `ledger push --to URL`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path

import psycopg
import pytest
from evidence_factory import only, policy_file
from helpers import git
from identity import approved_policy, roster_text, ssh_keys
from ledger.pgcluster import Cluster

from sdl_tracker import ledger
from sdl_tracker.cli.commands import record as record_cmd
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore, pgschema
from sdl_tracker.ledger.pgstore import PgStore

GRACE = "Grace Hopper <grace@example.com>"
IDENTITY = {  # the `git_repo` fixture's (tests/conftest.py), for the module-scoped repositories
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2024-05-01T09:30:00+00:00",
    "GIT_COMMITTER_DATE": "2024-05-01T09:30:00+00:00",
}


def cli(*argv: str) -> int:
    return main([*argv, "--color", "never"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli(*argv)
    out, err = capsys.readouterr()
    return code, out, err


def make_repo(base: Path, name: str) -> Path:
    root = base / name
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    git(root, "config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    (root / "README.md").write_text(f"# {name}\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial commit")
    assert cli("init", "-C", str(root)) == 0
    return root


def record(root: Path, kind: str, *extra: str) -> None:
    file = root.parent / f"{root.name}-{kind}.txt"
    file.write_text(f"{kind} evidence for {root.name}\n")
    assert cli("record", kind, str(file), "-C", str(root), *extra) == 0


def small_policy(base: Path) -> Path:
    """Only SM-4 (training) applies."""
    return policy_file(base, "extends: iec62443-4-1\n" + only("SM-4"), "small.yaml")


def day(offset: int) -> str:
    return f"{datetime.now(timezone.utc) + timedelta(days=offset):%Y-%m-%d}"


@dataclass(frozen=True)
class Org:
    url: str
    roots: dict[str, Path]


@pytest.fixture(scope="module")
def org(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """A central ledger with three repositories pushed from their git ledgers:

    alpha: release v1.0 passed (small policy), then a failing gate of a later commit;
    beta:  release v2.0 failed (default policy), waivers for SVV-4 (10 days) and B602 (90 days);
    gamma: one attestation, never gated.
    """
    base = tmp_path_factory.mktemp("org")
    with pytest.MonkeyPatch.context() as mp:
        (base / "gitconfig").write_text("")
        mp.setenv("GIT_CONFIG_GLOBAL", str(base / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name, value in IDENTITY.items():
            mp.setenv(name, value)
        with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "org_status"')
        url = pg_cluster.url("org_status")
        policy = small_policy(base)

        alpha = make_repo(base, "alpha")
        record(alpha, "training_record")
        policy = approved_policy(alpha, policy.read_text(), "small.yaml")
        git(alpha, "tag", "v1.0")
        assert cli("gate", "--release", "v1.0", "--policy", str(policy), "-C", str(alpha)) == 0
        git(alpha, "commit", "-q", "--allow-empty", "-m", "later work")
        assert cli("gate", "-C", str(alpha)) == 1

        beta = make_repo(base, "beta")
        record(beta, "training_record", "--status", "incomplete")
        git(beta, "tag", "v2.0")
        for target, days in (("SVV-4", 10), ("B602", 90)):
            args = ("--reason", "pentest booked", "--expires", day(days), "--approver", GRACE)
            assert cli("waive", target, *args, "-C", str(beta)) == 0
        assert cli("gate", "--release", "v2.0", "-C", str(beta)) == 1

        gamma = make_repo(base, "gamma")
        record(gamma, "pentest_report")
        for root in (alpha, beta, gamma):
            assert cli("ledger", "push", "--to", url, "-C", str(root)) == 0
        yield Org(url=url, roots={"alpha": alpha, "beta": beta, "gamma": gamma})


def rows(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> dict[str, dict]:  # type: ignore[type-arg]
    code, out, err = run(capsys, "org", "status", "--ledger", url, "--format", "json", *extra)
    assert code == 0, err
    return {r["repository"]: r for r in json.loads(out)["repositories"]}


def test_org_status_rows(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    found = rows(capsys, org.url)
    assert list(found) == ["alpha", "beta", "gamma"]
    alpha, beta, gamma = found["alpha"], found["beta"], found["gamma"]

    assert alpha["gate"] == "passed"  # the release's verdict, not the later commit's failure
    assert alpha["verdict"]["release"] == "v1.0" and alpha["verdict"]["seq"] == 4
    assert alpha["entries"] == 5 and alpha["stale"] == 0 and alpha["incomplete"] == 0
    assert alpha["verdict"]["statuses"]["satisfied"] == 1
    assert alpha["verdict"]["statuses"]["not_applicable"] == 46
    assert set(alpha["maturity"]) == {"SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG"}
    assert alpha["maturity"]["SM"] >= 1 and alpha["maturity_note"] is None
    head = GitStore(org.roots["alpha"]).head()
    assert head is not None and (alpha["entries"], alpha["head"]) == (head.seq, head.hash)

    assert beta["gate"] == "failed" and beta["verdict"]["release"] == "v2.0"
    assert beta["incomplete"] == 1 and beta["stale"] == 0  # SM-4's attestation was incomplete
    assert beta["verdict"]["passed"] is False
    (expiring,) = beta["waivers_expiring"]  # B602's lasts 90 days: not listed
    assert expiring["target"] == "SVV-4" and expiring["seq"] == 2
    assert expiring["days_left"] in (9, 10) and expiring["approver"] == GRACE
    assert expiring["reason"] == "pentest booked"

    assert gamma["gate"] == "no verdict" and gamma["verdict"] is None
    assert gamma["maturity"] is None and gamma["maturity_note"] == "no verdict"
    assert gamma["stale"] is None and gamma["entries"] == 1
    assert gamma["last_activity"].startswith(f"{datetime.now(timezone.utc):%Y-}")


def test_org_status_window_and_selection(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    wide = rows(capsys, org.url, "--within", "120", "--only", "beta")
    assert list(wide) == ["beta"]
    assert [w["target"] for w in wide["beta"]["waivers_expiring"]] == ["SVV-4", "B602"]
    narrow = rows(capsys, org.url, "--within", "5", "--only", "alpha,beta")
    assert list(narrow) == ["alpha", "beta"] and narrow["beta"]["waivers_expiring"] == []


def test_org_status_table_and_markdown(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "org", "status", "--ledger", org.url)
    assert code == 0 and out == ""
    lines = err.splitlines()
    assert lines[0].split()[:6] == ["repository", "gate", "release", "SM", "SR", "SD"]
    assert lines[2].split()[:3] == ["alpha", "passed", "v1.0"]
    assert lines[4].split()[:3] == ["gamma", "no", "verdict"]
    assert any("beta: the waiver for SVV-4 (entry 2) expires on" in line for line in lines)
    assert "3 repositories: 1 passed, 1 failed, 1 without a verdict" in err
    code, out, _ = run(capsys, "org", "status", "--ledger", org.url, "--format", "markdown")
    assert code == 0 and out.startswith("## sdl-tracker organisation status")
    assert "| alpha | passed | v1.0 |" in out and "the waiver for SVV-4" in out


def test_org_export(org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "org-report.zip"
    code, _, err = run(capsys, "org", "export", "--ledger", org.url, "--out", str(out))
    assert code == 0 and "wrote" in err and "3 repositories, 2 gate verdicts" in err
    archive = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    names = archive.namelist()
    assert names == sorted(names)
    assert {"MANIFEST.json", "index.html", "org-status.json"} <= set(names)
    assert "repositories/gamma/head.json" in names
    assert "repositories/gamma/verdict-entry.jsonl" not in names
    manifest = json.loads(archive.read("MANIFEST.json"))
    assert set(manifest["files"]) == set(names) - {"MANIFEST.json"}
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == meta["sha256"]
    # Cross-check with the repository's own git ledger: the same entry bytes, the same head.
    own = GitStore(org.roots["alpha"])
    head = json.loads(archive.read("repositories/alpha/head.json"))
    assert own.head() == ledger.Head(seq=head["seq"], hash=head["hash"])
    entry = archive.read("repositories/alpha/verdict-entry.jsonl")
    assert entry == [e.raw for e in ledger.entries(own)][3] + b"\n"
    assert json.loads(entry)["hash"] == head["verdict_hash"] and head["verdict_seq"] == 4
    status = json.loads(archive.read("org-status.json"))
    assert [r["repository"] for r in status["repositories"]] == ["alpha", "beta", "gamma"]
    html = archive.read("index.html").decode()
    assert "<td>alpha</td>" in html and "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "<img" not in html
    # The Content-Security-Policy lets nothing load and allows exactly the inline stylesheet.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert csp and style and unescape(csp.group(1)).startswith("default-src 'none'; ")
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in unescape(csp.group(1))


def test_org_export_is_deterministic(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert cli("org", "export", "--ledger", org.url, "--out", str(first)) == 0
    assert cli("org", "export", "--ledger", org.url, "--out", str(second)) == 0
    assert first.read_bytes() == second.read_bytes()
    status = json.loads(zipfile.ZipFile(first).read("org-status.json"))
    assert status["generated_at"] == "2026-09-21T14:13:20Z"


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def test_org_bad_input(
    org: Org, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ("-C", str(tmp_path))
    err = _error(capsys, "org", "status", "--ledger", org.url, "--only", "nosuch", *where)
    assert "no chain for repository 'nosuch'" in err
    with socket_port() as port:
        url = f"postgresql://sdl:secret@127.0.0.1:{port}/sdl"
        err = _error(capsys, "org", "status", "--ledger", url, *where)
    assert "cannot connect to the PostgreSQL ledger" in err and "secret" not in err
    assert "schema sdl_tracker is missing" in _error(capsys, "org", "export", "--ledger", pg_url)
    assert "pass --ledger" in _error(capsys, "org", "status", *where)
    assert "unsupported scheme" in _error(capsys, "org", "status", "--ledger", "mysql://h/db")
    assert "--within -1" in _error(capsys, "org", "status", "--ledger", org.url, "--within", "-1")
    target = tmp_path / "missing-dir" / "r.zip"
    err = _error(capsys, "org", "export", "--ledger", org.url, "--out", str(target))
    assert "cannot write" in err
    assert not target.parent.exists()


class socket_port:
    """A 127.0.0.1 port nothing listens on (held open without listening while in use)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_org_status_of_an_empty_ledger(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    PgStore(pg_url, "empty").create()
    code, _, err = run(capsys, "org", "status", "--ledger", pg_url)
    assert code == 0 and "empty" in err and "no verdict" in err
    PgStore(pg_url, "empty").close()


def test_ci_writes_straight_to_postgresql(
    pg_cluster: Cluster,
    pg_db: str,
    git_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """CI with an appender role: the owner made the chain; collect and gate append to it."""
    owner, appender, reader = f"own_{pg_db}", f"app_{pg_db}", f"read_{pg_db}"
    with psycopg.connect(pg_cluster.url(pg_db), autocommit=True) as conn:  # the manual's roles
        conn.execute(f"CREATE ROLE {owner} LOGIN PASSWORD 'o'")
        conn.execute(f'GRANT CREATE ON DATABASE "{pg_db}" TO {owner}')
        conn.execute(f"CREATE ROLE {appender} LOGIN PASSWORD 'a'")
        conn.execute(f"CREATE ROLE {reader} LOGIN PASSWORD 'r'")
    owner_url = pg_cluster.tcp_url(pg_db, owner, "o")
    assert cli("init", "--ledger", owner_url, "--repo-name", "widget", "-C", str(git_repo)) == 0
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(pgschema.grants(appender, reader).encode())
    url = pg_cluster.tcp_url(pg_db, appender, "a")
    config = git_repo / ".sdl-tracker.toml"
    config.write_text(config.read_text() + '\n[collect]\nenabled = ["releases"]\n')
    keys = ssh_keys(tmp_path / "keys")
    (git_repo / "sdl-roster.yaml").write_text(roster_text(keys))
    policy = git_repo / "small.yaml"
    policy.write_text(small_policy(tmp_path).read_text())
    git(git_repo, "add", ".sdl-tracker.toml", "sdl-roster.yaml", "small.yaml")
    git(git_repo, "commit", "-q", "-m", "sdl-tracker configuration")
    git(git_repo, "tag", "v3.0")
    common = ("--ledger", url, "--repo-name", "widget", "-C", str(git_repo))
    record(git_repo, "training_record", *common)
    grace = ("--key", str(keys["grace"]))
    assert cli("approve", "--policy", str(policy), *grace, *common) == 0
    out = tmp_path / "reports"
    capsys.readouterr()
    args = ("ci", "--release", "v3.0", "--policy", str(policy), "--out", str(out))
    code, _, err = run(capsys, *args, "--remote", "origin", *common)
    assert code == 0, err
    assert "is not a git branch; --remote origin ignored" in err
    assert "appending straight to PostgreSQL ledger" in err and "repository widget" in err
    assert "ledger: created" not in err and "gate v3.0: PASSED" in err
    assert (out / "junit.xml").is_file() and "v3.0" in (out / "summary.md").read_text()
    assert list(out.glob("evidence-*.zip"))  # the release's package, read from PostgreSQL
    kinds = [e.statement().predicate.kind for e in ledger.entries(PgStore(url, "widget"))]
    assert kinds == [
        *("training_record", "policy_approval", "signature"),
        *("release_notes", "release_gate_record"),
    ]
    assert ledger.verify(PgStore(url, "widget")).entries == 5
    assert not GitStore(git_repo).exists()  # nothing local: the central ledger is the ledger
    reader_url = pg_cluster.tcp_url(pg_db, reader, "r")
    assert rows(capsys, reader_url)["widget"]["gate"] == "passed"


def test_same_conformance_from_the_git_store_and_from_postgresql(
    pg_url: str, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("init", "-C", str(git_repo)) == 0
    record(git_repo, "training_record")
    record(git_repo, "pentest_report", "-r", "SVV-4")
    record(git_repo, "document:product_scope", "--status", "incomplete")
    args = ("--reason", "accepted", "--expires", day(20), "--approver", GRACE)
    assert cli("waive", "SVV-3", *args, "-C", str(git_repo)) == 0
    assert cli("gate", "-C", str(git_repo)) == 1
    assert cli("ledger", "push", "--to", pg_url, "-C", str(git_repo)) == 0
    capsys.readouterr()
    results = []
    for extra in ((), ("--ledger", pg_url, "--repo-name", "repo")):
        code, out, err = run(capsys, "status", "--format", "json", "-C", str(git_repo), *extra)
        assert code == 0, err
        data = json.loads(out)
        data.pop("evaluated_at")
        results.append(data)
    git_result, pg_result = results
    assert pg_result == git_result
    statuses = {r["id"]: r["status"] for r in pg_result["requirements"]}
    # unsigned training (SM-4 wants it signed), a waiver nobody approved: the same in both
    assert statuses["SM-4"] == "partial" and statuses["SVV-3"] == "missing"
    assert any(r["evidence"] for r in pg_result["requirements"])


def test_org_status_calls_a_waiver_approved_only_against_its_roster(
    pg_url: str, git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The request names Grace as approver; only her checked signature makes it approved, and
    without the chain's roster the view says the approval was not checked."""
    keys = ssh_keys(tmp_path / "keys")
    (git_repo / "sdl-roster.yaml").write_text(roster_text(keys))
    git(git_repo, "add", "sdl-roster.yaml")
    git(git_repo, "commit", "-q", "-m", "roster")
    assert cli("init", "-C", str(git_repo)) == 0
    ask = ("--reason", "pentest booked", "--expires", day(10), "--approver", GRACE)
    for target in ("SVV-4", "SVV-3"):
        assert cli("waive", target, *ask, "--key", str(keys["ada"]), "-C", str(git_repo)) == 0
    (svv4,) = [
        e.seq
        for e in ledger.entries(GitStore(git_repo))
        if e.statement().predicate.details.get("target") == "SVV-4"
    ]
    assert cli("approve", str(svv4), "--key", str(keys["grace"]), "-C", str(git_repo)) == 0
    assert cli("ledger", "push", "--to", pg_url, "--repo-name", "widget", "-C", str(git_repo)) == 0
    capsys.readouterr()

    unchecked = rows(capsys, pg_url)["widget"]["waivers_expiring"]
    assert [w["approval"] for w in unchecked] == ["not checked", "not checked"]
    assert all(w["approved_by"] is None for w in unchecked)
    code, _, err = run(capsys, "org", "status", "--ledger", pg_url)
    assert code == 0 and "approved by" not in err and "its approval NOT CHECKED here" in err

    checked = rows(capsys, pg_url, "--roster", f"widget={git_repo}")["widget"]
    by = {w["target"]: w for w in checked["waivers_expiring"]}
    assert (by["SVV-4"]["approval"], by["SVV-4"]["approved_by"]) == ("approved", GRACE)
    assert by["SVV-3"]["approval"] == "pending" and by["SVV-3"]["approved_by"] is None
    assert "no approval signature" in by["SVV-3"]["pending"]


def test_org_status_reads_the_checkouts_mailmap_for_waiver_approvals(
    pg_url: str, git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Grace's address is Ada's by `.mailmap`: her approval of Ada's request is self-approval
    for the gate, and so for the organisation view given the checkout; a bare roster file has
    no `.mailmap` to tell (documented)."""
    keys = ssh_keys(tmp_path / "keys")
    (git_repo / "sdl-roster.yaml").write_text(roster_text(keys))
    (git_repo / ".mailmap").write_text("Ada Lovelace <ada@example.com> <grace@example.com>\n")
    git(git_repo, "add", "sdl-roster.yaml", ".mailmap")
    git(git_repo, "commit", "-q", "-m", "roster")
    assert cli("init", "-C", str(git_repo)) == 0
    ask = ("--reason", "pentest booked", "--expires", day(10), "--approver", "G <g@x.org>")
    assert cli("waive", "SVV-4", *ask, "--key", str(keys["ada"]), "-C", str(git_repo)) == 0
    assert cli("approve", "1", "--key", str(keys["grace"]), "-C", str(git_repo)) == 2  # refused
    store = GitStore(git_repo)  # so Grace's signature is appended by hand
    request = next(ledger.entries(store)).statement()
    ledger.append(store, [record_cmd._signature(request, keys["grace"], GRACE)])
    assert cli("ledger", "push", "--to", pg_url, "--repo-name", "widget", "-C", str(git_repo)) == 0
    capsys.readouterr()
    found = rows(capsys, pg_url, "--roster", f"widget={git_repo}")["widget"]
    (waiver,) = found["waivers_expiring"]
    assert waiver["approval"] == "pending" and "but is the requester" in waiver["pending"]
    code, out, _ = run(capsys, "status", "--format", "json", "-C", str(git_repo))
    assert code == 0 and json.loads(out)["waivers"][0]["state"] == "pending"  # the gate agrees
    roster_file = tmp_path / "roster.yaml"
    roster_file.write_text(roster_text(keys))
    (waiver,) = rows(capsys, pg_url, "--roster", f"widget={roster_file}")["widget"][
        "waivers_expiring"
    ]
    assert waiver["approval"] == "approved"  # no .mailmap with a roster file: documented
