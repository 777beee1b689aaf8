"""A repository with a realistic ledger and a gated release, for the export tests.

Built through the real commands: `init`, `collect` (threat-model, tests, secrets, deps against a
small offline OSV database, sbom from pinned requirements), `record`, `waive`, a tagged commit
and `gate --release`. Repository-derived strings carry an HTML injection attempt (XSS) so that
every view can be checked for escaping.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2024-05-01T09:30:00+00:00",
    "GIT_COMMITTER_DATE": "2024-05-01T09:30:00+00:00",
}
XSS = "<img src=x onerror=alert(1)>"
TAG = "v1.0"
SECRET = "AKIAQYLPMN5HHHFPZAM2"  # a fake AWS key id: detect-secrets must find it
DATA = Path(__file__).resolve().parent / "data" / "threatmodel"

_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1" errors="0" skipped="0">
<testcase classname="tests.test_agent" name="test_rejects_unsigned_image" time="0.01">
<properties><property name="security_requirement" value="SR-3.1"/>
<property name="mitigates" value="T-001"/></properties></testcase>
<testcase classname="tests.test_agent" name="test_rejects_unknown_server" time="0.01">
<properties><property name="security_requirement" value="SR-1.2"/></properties>
<failure message="pinning not enforced">assert False</failure></testcase>
<testcase classname="tests.test_misc" name="test_other" time="0.01"/>
</testsuite></testsuites>
"""

_OSV = {
    "id": "PYSEC-2018-28",
    "aliases": ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
    "modified": "2024-01-01T00:00:00Z",
    "summary": "requests sends credentials on redirect",
    "details": f"Authorization header leaked on redirect {XSS}",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"name": "requests", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}],
        }
    ],
}
_OSV_URLLIB3 = {
    "id": "PYSEC-2019-133",
    "aliases": ["CVE-2019-11324"],
    "modified": "2024-01-01T00:00:00Z",
    "details": "certificate validation weakness",
    "affected": [
        {
            "package": {"name": "urllib3", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.24.2"}]}],
        }
    ],
}
_VEX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "vulnerabilities": [
        {
            "id": "CVE-2019-11324",
            "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
        }
    ],
}


@dataclass(frozen=True)
class Release:
    repo: Path
    tag: str
    gate_seq: int


#: The waiver's last day: within the default policy's 90 days.
SOON = (datetime.now(timezone.utc) + timedelta(days=60)).date().isoformat()


def build(root: Path, work: Path) -> Release:
    """Populate the `git_repo` at `root`, collect, record, waive, tag and gate `TAG`."""
    osv = work / "osv"
    osv.mkdir()
    (osv / "PYSEC-2018-28.json").write_text(json.dumps(_OSV))
    (osv / "PYSEC-2019-133.json").write_text(json.dumps(_OSV_URLLIB3))
    for name in ("threat-model.yaml", "security-requirements.yaml"):
        shutil.copy(DATA / name, root / name)
    (root / "reports").mkdir()
    (root / "reports" / "junit.xml").write_text(_JUNIT)
    (root / "requirements.txt").write_text("requests==2.19.0\nurllib3==1.24.1\n")
    (root / "vex.json").write_text(json.dumps(_VEX))
    (root / "deploy.env").write_text(f"AWS_ACCESS_KEY_ID={SECRET}\n")
    (root / ".sdl-tracker.toml").write_text(
        'policy = "sdl-policy.yaml"\n\n'
        '[collectors.deps]\nsource = "requirements"\n\n'
        '[collectors.sbom]\nsource = "requirements"\n'
    )
    (root / "sdl-policy.yaml").write_text(
        "extends: iec62443-4-1\nnot_applicable:\n"
        f"  SM-10: 'no custom components from suppliers {XSS}'\n"
    )
    keys = ssh_keys(work / "keys")
    (root / "sdl-roster.yaml").write_text(roster_text(keys))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", f"release candidate {XSS}\n\nbody & more {XSS}")
    assert main(["init", "--repo", str(root)]) == 0
    only = "threat-model,tests,secrets,deps,sbom"
    assert main(["collect", "--repo", str(root), "--only", only, "--osv-db", str(osv)]) == 0
    report = work / f"pentest {XSS}.txt"
    report.write_text("external penetration test: 2 low findings\n")
    assert (
        main(
            ["record", "pentest_report", str(report), "--repo", str(root), "--note", XSS]
            + ["--requirement", "SVV-4", "--sign", "--key", str(keys["tess"])]
        )
        == 0
    )
    assert (
        main(
            ["waive", "SM-8", "--repo", str(root), "--reason", f"rotating the key {XSS}"]
            + ["--expires", SOON, "--approver", "Grace Hopper <grace@example.com>"]
            + ["--key", str(keys["ada"])]
        )
        == 0
    )
    waiver = list(ledger.entries(GitStore(root)))[-2].seq  # the request, then its signature
    assert main(["approve", str(waiver), "--key", str(keys["grace"]), "--repo", str(root)]) == 0
    # The product-security-lead approves the committed policy: its SM-10 tailoring counts.
    grace = ["--key", str(keys["grace"]), "--repo", str(root)]
    assert main(["approve", "--policy", *grace]) == 0
    git(root, "tag", "-a", TAG, "-m", f"release 1.0 {XSS}")
    assert main(["gate", "--repo", str(root), "--release", TAG]) == 1
    last = list(ledger.entries(GitStore(root)))[-1]
    assert last.statement().predicate.kind == "release_gate_record"
    return Release(repo=root, tag=TAG, gate_seq=last.seq)


def git_environment(work: Path) -> dict[str, str]:
    """What the `git_env` fixture sets: no user or system configuration, a fixed identity."""
    config = work / "gitconfig"
    config.write_text("")
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1", **IDENTITY}


def new_repo(root: Path) -> Path:
    """What the `git_repo` fixture makes: a repository on `main` with one commit."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    git(root, "config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    (root / "README.md").write_text("# demo\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial commit")
    return root


_shared: list[Release] = []


def shared(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """One release per test session (worker), built on first use with git isolated."""
    if not _shared:
        work = tmp_path_factory.mktemp("release")
        with pytest.MonkeyPatch.context() as mp:
            for name, value in git_environment(work).items():
                mp.setenv(name, value)
            for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
                mp.delenv(name, raising=False)
            _shared.append(build(new_repo(work / "repo"), work))
    return _shared[0]
