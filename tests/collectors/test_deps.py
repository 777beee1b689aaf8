"""deps end to end: the real pip-audit against an OSV server on 127.0.0.1, the offline OSV
database, ingested reports, VEX, and never a silent pass.

Every test runs with HTTP(S)_PROXY pointing at a closed local port (NO_PROXY for 127.0.0.1)
and PIP_NO_INDEX=1, so neither pip-audit nor pip can leave the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.collectors.deps import config as deps_config
from sdl_tracker.ledger import GitStore
from sdl_tracker.models import Predicate

PYPA_DB = Path(__file__).resolve().parents[2] / ".." / "shared" / "osv" / "pypa-advisory-database"
PROVIDES = ["SM-9", "SVV-3", "DM-3", "SUM-3"]

# PYSEC-2018-28 as osv.dev serves it (trimmed to the fields pip-audit reads).
PYSEC_2018_28 = {
    "id": "PYSEC-2018-28",
    "schema_version": "1.6.0",
    "modified": "2021-06-16T00:03:24.800813Z",
    "published": "2018-10-09T17:29:00Z",
    "aliases": ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
    "details": "The Requests package before 2.20.0 for Python sends an HTTP Authorization "
    "header to an http URI upon receiving a same-hostname https-to-http redirect.",
    "affected": [
        {
            "package": {"name": "requests", "ecosystem": "PyPI", "purl": "pkg:pypi/requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}],
        }
    ],
}
ADVISORIES = {("requests", "2.19.0"): [PYSEC_2018_28]}

CYCLONEDX_VEX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "vulnerabilities": [
        {
            "id": "CVE-2018-18074",
            "analysis": {
                "state": "not_affected",
                "justification": "code_not_reachable",
                "detail": "we never follow redirects with credentials",
            },
            "affects": [{"ref": "pkg:pypi/demo@1.0"}],
        }
    ],
}
OPENVEX = {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://example.com/vex/demo-1",
    "author": "Ada Lovelace",
    "timestamp": "2024-05-01T09:30:00Z",
    "version": 1,
    "statements": [
        {
            "vulnerability": {"name": "PYSEC-2018-28"},
            "products": [{"@id": "pkg:pypi/demo@1.0"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        }
    ],
}


class _OsvHandler(BaseHTTPRequestHandler):
    server: _OsvServer

    def do_GET(self) -> None:  # noqa: N802 - the OSV API's GET /v1/vulns/<id>
        self.server.fetched.append(self.path)
        vid = self.path.removeprefix("/v1/vulns/")
        record = self.server.records.get(vid)
        if record is None:
            self.send_error(404)
            return
        data = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.queries.append((self.path, body))
        if self.path != "/v1/query":
            self.send_error(404)
            return
        key = (body["package"]["name"], body["version"])
        vulns = ADVISORIES.get(key, []) if body["package"]["ecosystem"] == "PyPI" else []
        data = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _OsvServer(ThreadingHTTPServer):
    queries: list[tuple[str, Any]]
    fetched: list[str]
    records: dict[str, Any]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("SDL_TRACKER_OSV_URL", "SDL_TRACKER_OSV_DB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def osv_server() -> Iterator[_OsvServer]:
    server = _OsvServer(("127.0.0.1", 0), _OsvHandler)
    server.queries = []
    server.fetched = []
    server.records = {PYSEC_2018_28["id"]: PYSEC_2018_28}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _OsvServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1/query"


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    capsys.readouterr()
    return git_repo


def _commit(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")


def _configure(repo: Path, section: str) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write(f"\n[collectors.deps]\n{section}\n")


def _collect(repo: Path, *args: str) -> int:
    return main(["collect", "--only", "deps", "--repo", str(repo), *args])


def _entries(repo: Path) -> int:
    return len(list(ledger.entries(GitStore(repo))))


def _last(repo: Path) -> Predicate:
    p = list(ledger.entries(GitStore(repo)))[-1].statement().predicate
    assert (p.kind, p.collector, list(p.requirements)) == ("dependency_audit", "deps", PROVIDES)
    return p


def _artifact(repo: Path, name: str) -> bytes:
    st = list(ledger.entries(GitStore(repo)))[-1].statement()
    (found,) = [a for a in st.artifacts if a.name == name]
    data = GitStore(repo).read_object(found.sha256)
    assert data is not None
    return data


def _metrics(p: Predicate) -> dict[str, int | float]:
    return dict(p.result.metrics)


FOUND = {
    "dependencies": 1,
    "audited": 1,
    "skipped": 0,
    "vulnerabilities": 1,
    "vulnerable_packages": 1,
    "not_affected": 0,
}


def test_vulnerable_pin_fails_with_the_real_pip_audit(
    repo: Path, osv_server: _OsvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\n"})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    assert p.result.status.value == "fail"
    assert _metrics(p) == FOUND
    assert p.tool.name == "pip-audit" and p.tool.version[0].isdigit()
    assert "requests 2.19.0 PYSEC-2018-28 (fixed in 2.20.0)" in p.result.summary
    (vuln,) = p.details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["id"] == "PYSEC-2018-28" and vuln["fix_versions"] == ["2.20.0"]
    assert sorted(vuln["aliases"]) == ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"]
    assert vuln["fix_available"] is True and vuln["status"] == "affected"
    assert p.details["arguments"] == [
        *("-r", "requirements.txt", "--no-deps", "--disable-pip"),
        *("-s", "osv", "--osv-url", _url(osv_server)),
    ]
    assert osv_server.queries == [
        ("/v1/query", {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.19.0"})
    ]
    report = json.loads(_artifact(repo, "pip-audit.json"))
    assert report["dependencies"][0]["vulns"][0]["id"] == "PYSEC-2018-28"
    assert p.covers == ("requirements.txt",)


@pytest.mark.parametrize(
    ("path", "document", "justification"),
    [
        ("vex.json", CYCLONEDX_VEX, "code_not_reachable: we never follow redirects"),
        (".vex/requests.json", OPENVEX, "vulnerable_code_not_in_execute_path"),
    ],
    ids=["cyclonedx-by-cve-alias", "openvex-by-id"],
)
def test_vex_not_affected_passes(
    repo: Path, osv_server: _OsvServer, path: str, document: dict[str, Any], justification: str
) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\n", path: json.dumps(document)})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    assert p.result.status.value == "pass", p.result.summary
    assert _metrics(p) == {
        **FOUND,
        "vulnerabilities": 0,
        "vulnerable_packages": 0,
        "not_affected": 1,
    }
    assert p.result.summary.endswith("no known vulnerabilities; 1 not affected per VEX")
    (vuln,) = p.details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["status"] == "not_affected" and vuln["justification"].startswith(justification)
    assert vuln["vex"].startswith(path)
    assert json.loads(_artifact(repo, path)) == document
    assert path in p.covers


def test_unreachable_service_is_incomplete(repo: Path) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\n"})
    closed = f"http://127.0.0.1:{_closed_port()}/v1/query"
    assert _collect(repo, "--osv-url", closed) == 0
    p = _last(repo)
    assert p.result.status.value == "incomplete"
    assert _metrics(p) == {**FOUND, "audited": 0, "skipped": 1, "vulnerabilities": 0,
                           "vulnerable_packages": 0}  # fmt: skip
    assert (
        "unreachable (127.0.0.1:" in p.result.summary and "Connection refused" in p.result.summary
    )
    assert "--osv-db DIR" in p.result.summary and "--from-report" in p.result.summary
    assert p.details["exit_code"] == 1 and p.details["unreachable"] is True
    assert not list(ledger.entries(GitStore(repo)))[-1].statement().artifacts


def test_default_service_without_network_never_passes(repo: Path) -> None:
    """pip-audit's default (PyPI JSON API) with no network: skipped or unreachable, never pass.

    Without a network pip-audit either skips every dependency and exits 0 (the API answers 404,
    as on this development machine) or dies with a connection error (no DNS); the dead proxy
    of `_offline` stands in for an air-gapped plant and keeps the test on this machine.
    """
    _commit(repo, {"requirements.txt": "requests==2.19.0\nidna==2.7\n"})
    assert _collect(repo) == 0
    p = _last(repo)
    assert p.result.status.value != "pass"
    assert p.result.status.value == "incomplete"
    assert p.details["service"] == "pypi"
    assert p.result.metrics["audited"] == 0 and p.result.metrics["skipped"] == 2
    if p.details["skipped"]:
        assert "requests" in p.result.summary
    assert "--osv-db DIR" in p.result.summary


def test_skipped_dependency_is_incomplete_even_with_findings(
    repo: Path, osv_server: _OsvServer
) -> None:
    reqs = "requests==2.19.0\nfoo @ https://example.invalid/foo-1.0-py3-none-any.whl\n"
    _commit(repo, {"requirements.txt": reqs})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    assert p.result.status.value == "incomplete"
    assert _metrics(p) == {**FOUND, "dependencies": 2, "skipped": 1}
    assert "1 skipped (URL requirements cannot be pinned" in p.result.summary
    assert "found so far: 1 known vulnerability" in p.result.summary
    assert p.details["skipped"] == [
        {
            "name": "foo",
            "version": None,
            "reason": "URL requirements cannot be pinned to a specific package version",
        }
    ]


def test_pyproject_with_pylock_is_audited_without_resolution(
    repo: Path, osv_server: _OsvServer
) -> None:
    lock = (
        'lock-version = "1.0"\ncreated-by = "test"\n'
        '[[packages]]\nname = "requests"\nversion = "2.19.0"\n'
        '[[packages]]\nname = "idna"\nversion = "2.7"\n'
    )
    project = '[project]\nname = "demo"\nversion = "1.0"\ndependencies = ["requests"]\n'
    _commit(repo, {"pyproject.toml": project, "pylock.toml": lock})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    assert p.details["source"] == "pyproject" and p.details["arguments"][:2] == ["--locked", "."]
    assert _metrics(p) == {**FOUND, "dependencies": 2, "audited": 2}
    assert p.covers == ("pylock.toml",)
    declared = {v["package"]: v["declared"] for v in p.details["vulnerabilities"]}  # type: ignore[union-attr,index]
    assert declared == {"requests": {"path": "pylock.toml", "line": 3}}


@pytest.mark.parametrize(
    ("files", "kind", "arguments"),
    [
        ({"requirements.txt": "a==1\nb===2\n"}, "requirements",
         ("-r", "requirements.txt", "--no-deps", "--disable-pip")),
        ({"requirements.txt": "a==1\nc @ https://x.invalid/c.whl\n"}, "requirements",
         ("-r", "requirements.txt", "--no-deps", "--disable-pip")),
        ({"requirements.txt": "a==1\nb>=2\n"}, "requirements", ("-r", "requirements.txt")),
        ({"pyproject.toml": "[project]\nname='d'\ndependencies=['a>=1']\n"}, "pyproject", (".",)),
        ({"pyproject.toml": "[tool.x]\n"}, "none", ()),
    ],
    ids=["pinned", "pinned-and-url", "unpinned", "pyproject-resolves", "nothing"],
)  # fmt: skip
def test_how_pip_audit_is_pointed_at_the_source(
    tmp_path: Path, files: dict[str, str], kind: str, arguments: tuple[str, ...]
) -> None:
    """Only requirements that need resolution make pip-audit use pip (a venv and an index);
    a pyproject without a lock always does, so it is not run here (that takes a venv)."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = deps_config.source(tmp_path, deps_config.Settings())
    assert (found.kind, found.arguments) == (kind, arguments)


def test_environment_source_audits_the_configured_interpreter_s_packages(
    repo: Path, osv_server: _OsvServer
) -> None:
    _configure(repo, f'source = "environment"\npython = "{sys.executable}"')
    _commit(repo, {})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    assert p.result.status.value == "pass", p.result.summary
    assert f"on the packages installed for {sys.executable}" in p.result.summary
    assert p.details["python"] == sys.executable
    n = p.result.metrics["dependencies"]
    assert n >= 10 and p.result.metrics["audited"] == n and len(osv_server.queries) == n
    assert "pip-audit" in {q[1]["package"]["name"] for q in osv_server.queries}


def test_the_environment_source_never_audits_the_tool_s_own_environment(repo: Path) -> None:
    _configure(repo, 'source = "environment"')
    _commit(repo, {})
    assert _collect(repo) == 2


def test_a_missing_interpreter_is_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(repo, 'source = "environment"\npython = ".venv/bin/python"')
    _commit(repo, {})
    assert _collect(repo) == 2
    assert "[collectors.deps] python: cannot run" in capsys.readouterr().err


def test_unchanged_inputs_are_reaffirmed_and_a_change_reruns(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _tiny_db(tmp_path)
    _commit(repo, {"requirements.txt": "requests==2.19.0\n"})
    _configure(repo, f'osv_db = "{db}"')
    _commit(repo, {})
    assert _collect(repo) == 0 and _collect(repo) == 0
    first, second = [e.statement().predicate for e in ledger.entries(GitStore(repo))][-2:]
    assert second.result.summary == "reaffirmed: " + first.result.summary
    assert second.details["reaffirms"] == _entries(repo) - 1
    assert set(first.inputs) == {"source", "sha256:requirements.txt", "osv_db"}
    _commit(repo, {"vex.json": json.dumps(CYCLONEDX_VEX)})
    assert _collect(repo) == 0
    third = _last(repo)
    assert "reaffirms" not in third.details and third.result.status.value == "pass"
    assert "sha256:vex.json" in third.inputs


def _tiny_db(tmp_path: Path) -> Path:
    db = tmp_path / "osv-db"
    (db / "requests").mkdir(parents=True)
    (db / "requests" / "PYSEC-2018-28.json").write_text(json.dumps(PYSEC_2018_28))
    return db


def test_offline_database_and_unpinned_requirement(repo: Path, tmp_path: Path) -> None:
    db = _tiny_db(tmp_path)
    _commit(repo, {"requirements.txt": "requests==2.19.0\nidna>=2\n"})
    assert _collect(repo, "--osv-db", str(db)) == 0
    p = _last(repo)
    assert p.tool.name == "sdl-tracker osv-db"
    assert p.result.status.value == "incomplete"
    assert _metrics(p) == {**FOUND, "dependencies": 2, "skipped": 1}
    assert (
        "1 skipped (not pinned to a version (idna>=2, requirements.txt:2)): idna — pin exact"
        in (p.result.summary)
    )
    report = json.loads(_artifact(repo, "osv-db-audit.json"))
    assert report["dependencies"][1]["skip_reason"].startswith("not pinned to a version (idna>=2")
    assert p.details["osv_db"]["record_files"] == 1  # type: ignore[index]
    (vuln,) = p.details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["declared"] == {"path": "requirements.txt", "line": 1}  # type: ignore[index]


@pytest.mark.skipif(not PYPA_DB.is_dir(), reason="../shared/osv/pypa-advisory-database absent")
def test_offline_pypa_advisory_database(repo: Path) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\nrequests-toolbelt==1.0.0\n"})
    _configure(repo, 'source = "requirements"')
    _commit(repo, {})
    assert _collect(repo, "--osv-db", str(PYPA_DB)) == 0
    p = _last(repo)
    assert p.result.status.value == "fail"
    assert _metrics(p) == {**FOUND, "dependencies": 2, "audited": 2, "vulnerabilities": 2}
    ids = {(v["id"], v["fix_versions"][0]) for v in p.details["vulnerabilities"]}  # type: ignore[union-attr,index]
    assert ids == {("PYSEC-2018-28", "2.20.0"), ("PYSEC-2023-74", "2.31.0")}


def _report(deps: list[dict[str, Any]]) -> str:
    return json.dumps({"dependencies": deps, "fixes": []})


VULNERABLE_REPORT = _report(
    [
        {
            "name": "requests",
            "version": "2.19.0",
            "vulns": [
                {
                    "id": "PYSEC-2018-28",
                    "fix_versions": ["2.20.0"],
                    "aliases": ["GHSA-x84v-xcm2-53pg", "CVE-2018-18074"],
                    "description": "...",
                }
            ],
        },
        {"name": "idna", "version": "2.7", "vulns": []},
    ]
)
# What pip-audit 2.10.1 wrote on the development machine (PyPI JSON API answering 404).
SKIPPED_REPORT = _report(
    [
        {
            "name": "requests",
            "skip_reason": "Dependency not found on PyPI and could not be audited: "
            "requests (2.19.0)",
        }
    ]
)


def test_ingested_report(repo: Path, tmp_path: Path) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\nidna==2.7\n"})
    report = tmp_path / "pip-audit.json"
    report.write_text(VULNERABLE_REPORT)
    assert _collect(repo, "--from-report", str(report)) == 0
    p = _last(repo)
    assert p.result.status.value == "fail"
    assert _metrics(p) == {**FOUND, "dependencies": 2, "audited": 2}
    info = p.details["report"]
    assert isinstance(info, dict)
    assert info["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert info["mtime"].endswith("Z") and info["age_hours"] == 0
    assert p.tool.name == "pip-audit" and p.details["mode"] == "report"
    assert _artifact(repo, "pip-audit.json") == report.read_bytes()


@pytest.mark.parametrize(
    ("text", "requirements", "expected"),
    [
        (SKIPPED_REPORT, "requests==2.19.0\n", "1 skipped (Dependency not found on PyPI"),
        (VULNERABLE_REPORT, "requests==2.19.0\nflask==1.0\n", "does not cover flask==1.0"),
        (VULNERABLE_REPORT, "requests==2.20.0\nidna==2.7\n", "does not cover requests==2.20.0"),
    ],
    ids=["skipped", "undeclared", "other-version"],
)
def test_ingested_report_that_audits_less_is_incomplete(
    repo: Path, tmp_path: Path, text: str, requirements: str, expected: str
) -> None:
    _commit(repo, {"requirements.txt": requirements})
    report = tmp_path / "pip-audit.json"
    report.write_text(text)
    assert _collect(repo, "--from-report", str(report)) == 0
    p = _last(repo)
    assert p.result.status.value == "incomplete" and expected in p.result.summary


def test_too_old_report_is_incomplete(repo: Path, tmp_path: Path) -> None:
    _commit(repo, {"requirements.txt": "idna==2.7\n"})
    report = tmp_path / "pip-audit.json"
    report.write_text(_report([{"name": "idna", "version": "2.7", "vulns": []}]))
    old = time.time() - 30 * 3600
    os.utime(report, (old, old))
    assert _collect(repo, "--from-report", str(report)) == 0
    p = _last(repo)
    assert p.result.status.value == "incomplete"
    assert "the report is 30 h old (max 24 h)" in p.result.summary
    _configure(repo, "max_report_age_hours = 48")
    _commit(repo, {})
    assert _collect(repo, "--from-report", str(report)) == 0
    assert _last(repo).result.status.value == "pass"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "not JSON"),
        ("[]", "$: expected an object with a `dependencies` array"),
        (_report([{"version": "1.0", "vulns": []}]), "dependencies[0].name: expected"),
        (_report([{"name": "a", "version": "1", "vulns": "none"}]), "dependencies[0].vulns:"),
        (_report([{"name": "a", "version": "1", "vulns": [{"fix_versions": []}]}]), "vulns[0].id"),
        (
            _report([{"name": "a", "version": "1", "vulns": [{"id": "X", "fix_versions": [1]}]}]),
            "dependencies[0].vulns[0].fix_versions: expected an array of strings",
        ),
    ],
)
def test_malformed_report_exits_2_and_appends_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    report = tmp_path / "bad.json"
    report.write_text(text)
    before = _entries(repo)
    assert _collect(repo, "--from-report", str(report)) == 2
    err = capsys.readouterr().err
    assert f"{report}: " in err and expected in err
    assert _entries(repo) == before


@pytest.mark.parametrize(
    ("files", "config", "expected"),
    [
        ({"vex.json": "{"}, "", "vex.json: not JSON"),
        (
            {
                "vex.json": json.dumps(
                    {
                        **OPENVEX,
                        "statements": [{"vulnerability": {"name": "X"}, "status": "not_affected"}],
                    }
                )
            },
            "",
            "vex.json: statements[0].justification: status not_affected needs a justification",
        ),  # fmt: skip
        (
            {
                "osv/requests/x.json": '{"id": "X", "affected": [{"package": {"name": "requests", '
                '"ecosystem": "PyPI"}, "ranges": {}}]}'
            },
            "osv_db = 'osv'",
            "requests/x.json: $.affected[0].ranges: expected an array",
        ),  # fmt: skip
        ({}, "sauce = 'requirements'", "unknown key 'sauce'"),
        ({}, "source = 'poetry'", "source: expected one of auto, requirements"),
        ({}, "requirements = ['reqs/prod.txt']", "requirements: reqs/prod.txt does not exist"),
        ({}, "vex = ['security/vex.json']", "vex: security/vex.json does not exist"),
        ({"requirements.txt": "requests=2.19.0\n"}, "", "requirements.txt:1: invalid requirement"),
    ],
    ids=["vex-json", "vex-justification", "osv-record", "key", "source", "reqs", "vex-path", "req"],
)
def test_bad_input_exits_2_and_appends_nothing(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    config: str,
    expected: str,
) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\n", **files})
    if config:
        _configure(repo, config)
        _commit(repo, {})
    before = _entries(repo)
    assert _collect(repo) == 2
    assert expected in capsys.readouterr().err
    assert _entries(repo) == before


def test_nothing_declared_is_incomplete(repo: Path) -> None:
    assert _collect(repo) == 0
    p = _last(repo)
    assert p.result.status.value == "incomplete"
    assert "no requirements.txt, pylock.toml or pyproject.toml [project] found" in p.result.summary
    assert p.result.metrics["dependencies"] == 0


SCORED = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"  # 5.3


def test_online_severity_comes_from_the_servers_osv_record(
    repo: Path, osv_server: _OsvServer
) -> None:
    osv_server.records = {
        "PYSEC-2018-28": {**PYSEC_2018_28, "severity": [{"type": "CVSS_V3", "score": SCORED}]}
    }
    _commit(repo, {"requirements.txt": "requests==2.19.0\n"})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    (vuln,) = p.details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["severity"] == {
        "score": 5.3,
        "vector": SCORED,
        "source": f"OSV record PYSEC-2018-28 (the OSV server {_url(osv_server)})",
    }
    assert osv_server.fetched == ["/v1/vulns/PYSEC-2018-28"]
    stored = json.loads(_artifact(repo, "osv-records.json"))
    assert stored["PYSEC-2018-28"]["severity"][0]["score"] == SCORED


def test_online_severity_unknown_when_the_record_has_none_or_is_missing(
    repo: Path, osv_server: _OsvServer
) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\n"})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    (vuln,) = _last(repo).details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["severity"]["score"] is None and vuln["severity"]["vector"] is None
    assert vuln["severity"]["source"].endswith("gives no CVSS vector")
    osv_server.records = {}
    _commit(repo, {"requirements.txt": "requests==2.19.0 # again\n"})
    assert _collect(repo, "--osv-url", _url(osv_server)) == 0
    p = _last(repo)
    assert p.result.status.value == "fail"  # the verdict never depends on the severity
    (vuln,) = p.details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["severity"]["score"] is None
    assert vuln["severity"]["source"].endswith("/v1/vulns/PYSEC-2018-28 answered HTTP 404")
    assert not [
        a
        for a in list(ledger.entries(GitStore(repo)))[-1].statement().artifacts
        if a.name == "osv-records.json"
    ]


def test_an_ingested_report_has_no_severity_and_says_so(repo: Path, tmp_path: Path) -> None:
    _commit(repo, {"requirements.txt": "requests==2.19.0\nidna==2.7\n"})
    report = tmp_path / "pip-audit.json"
    report.write_text(VULNERABLE_REPORT)
    assert _collect(repo, "--from-report", str(report)) == 0
    (vuln,) = _last(repo).details["vulnerabilities"]  # type: ignore[misc]
    assert vuln["severity"]["score"] is None
    assert vuln["severity"]["source"].startswith("a pip-audit report carries no severity")
