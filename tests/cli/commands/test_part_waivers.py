"""An all_of whose parts are each met only through a finding waiver of their own: the verdict is
waived (a waiver never makes a part *satisfied*), and every one of those waivers is shown with
the requirement in `explain`, `status --format json` and the exported package (conformance.json,
index.html, OSCAL) — real bandit, real pip-audit against an offline OSV database."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import git
from identity import approved_policy, ssh_keys
from release_factory import _OSV

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

POLICY = """extends: iec62443-4-1
requirements:
  SVV-3:
    requires:
      all_of:
        - {kind: dependency_audit, thresholds: {vulnerabilities: {max: 0}}}
        - {kind: sast, thresholds: {high: {max: 0}}}
"""
SOON = (datetime.now(timezone.utc) + timedelta(days=60)).date().isoformat()


def _waive(repo: Path, target: str, key: Path, requester: Path) -> int:
    argv = ["waive", target, "--reason", f"{target} accepted", "--expires", SOON]
    argv += ["--approver", "Grace Hopper <grace@example.com>", "--repo", str(repo)]
    argv += ["--key", str(requester)]
    assert main(argv) == 0
    seq = max(
        e.seq for e in ledger.entries(GitStore(repo)) if e.statement().predicate.kind == "waiver"
    )
    assert main(["approve", str(seq), "--key", str(key), "--repo", str(repo)]) == 0
    return seq


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def test_every_part_waiver_is_shown_with_the_requirement(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osv = tmp_path / "osv"
    osv.mkdir()
    (osv / "PYSEC-2018-28.json").write_text(json.dumps(_OSV))
    (git_repo / "requirements.txt").write_text("requests==2.19.0\n")
    (git_repo / "run.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    (git_repo / ".sdl-tracker.toml").write_text(
        'policy = "sdl-policy.yaml"\n\n[collectors.deps]\nsource = "requirements"\n'
    )
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "runner")
    assert main(["init", "--repo", str(git_repo)]) == 0
    approved_policy(git_repo, POLICY)
    keys = ssh_keys(git_repo.parent / "keys")
    only = ["collect", "--only", "deps,sast", "--osv-db", str(osv), "--repo", str(git_repo)]
    assert main(only) == 0
    seqs = [_waive(git_repo, t, keys["grace"], keys["ada"]) for t in ("CVE-2018-18074", "B602")]
    git(git_repo, "tag", "-a", "v1.0", "-m", "release 1.0")
    assert main(["gate", "--repo", str(git_repo), "--release", "v1.0"]) == 1
    capsys.readouterr()

    assert main(["explain", "SVV-3", "--repo", str(git_repo)]) in (0, 1)
    shown = capsys.readouterr().err
    assert "waived findings: PYSEC-2018-28" in shown and "waived findings: B602" in shown
    for seq, target in zip(seqs, ("CVE-2018-18074", "B602")):
        assert f"waiver:    {target}: active until {SOON}" in shown
        assert f"(entry {seq}): {target} accepted" in shown

    main(["status", "--repo", str(git_repo), "--format", "json"])
    (svv3,) = [r for r in json.loads(capsys.readouterr().out)["requirements"] if r["id"] == "SVV-3"]
    assert svv3["status"] == "waived"
    assert [w["seq"] for w in svv3["waivers"]] == seqs

    out = tmp_path / "evidence.zip"
    assert main(["export", "--release", "v1.0", "--out", str(out), "--repo", str(git_repo)]) == 0
    with zipfile.ZipFile(out) as z:
        conformance = json.loads(z.read("conformance.json"))
        page = z.read("index.html").decode()
        oscal = z.read("oscal/assessment-results.json").decode()
    (svv3,) = [r for r in conformance["requirements"] if r["id"] == "SVV-3"]
    assert svv3["status"] == "waived" and [w["seq"] for w in svv3["waivers"]] == seqs
    text = _Text()
    text.feed(page)
    words = " ".join("".join(text.chunks).split())
    for seq, target in zip(seqs, ("CVE-2018-18074", "B602")):
        assert f"entry {seq} ({target}): {target} accepted" in words
        assert f"waiver (entry {seq}, active until" in oscal
