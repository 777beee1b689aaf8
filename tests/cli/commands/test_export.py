from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest
from export_support import schema
from helpers import git

from sdl_tracker.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A small gated release: one attestation, tag v0.1, its gate verdict."""
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    report = git_repo.parent / "pentest.txt"
    report.write_text("penetration test report\n")
    assert run(["record", "pentest_report", str(report), "-C", str(git_repo)], capsys)[0] == 0
    git(git_repo, "tag", "v0.1")
    assert run(["gate", "-C", str(git_repo), "--release", "v0.1"], capsys)[0] == 1
    return git_repo


def export(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run(["export", "-C", str(repo), *args], capsys)


def test_export_writes_the_package_and_says_how_to_check_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = repo.parent / "evidence-v0.1.zip"
    code, stdout, err = export(repo, capsys, "--release", "v0.1", "--out", str(out))
    assert code == 0 and stdout == ""
    assert f"exported the evidence package of release v0.1 to {out}:" in err
    assert "2 ledger entries, 2 artifacts, unsigned" in err
    assert f"check it with: python -I verify.py {out}" in err
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert json.loads(z.read("conformance.json"))["gate"]["entry"] == 2
    assert not list(repo.parent.glob(".evidence-v0.1.zip.*"))  # no temporary file left


@pytest.mark.parametrize("fmt", ["html", "oscal", "sarif", "json"])
def test_single_views_of_a_release(
    repo: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    out = repo.parent / f"view.{fmt}"
    code, _, err = export(repo, capsys, "--release", "v0.1", "--format", fmt, "--out", str(out))
    assert code == 0 and f"exported {fmt} of release v0.1 to {out}" in err
    text = out.read_text(encoding="utf-8")
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and text.count('data-requirement="') == 47
    else:
        json.loads(text)


def test_a_view_of_head_goes_to_stdout(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, err = export(repo, capsys, "--format", "json", "--out", "-")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["release"] is None and doc["commit"] == git(repo, "rev-parse", "HEAD")
    assert doc["ledger"]["entries"] == 2 and doc["gate"] is None
    assert "exported json of commit" in err and "to stdout" in err


def test_the_zip_needs_a_release(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = export(repo, capsys, "--out", str(repo.parent / "e.zip"))
    assert code == 2
    assert "the evidence package is made per release: give --release TAG" in err
    code, _, err = export(repo, capsys, "--release", "v9", "--out", str(repo.parent / "e.zip"))
    assert code == 2 and "release tag 'v9' does not exist" in err
    assert not (repo.parent / "e.zip").exists()


def test_bad_signing_keys_and_paths_write_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = repo.parent / "e.zip"
    bad = repo.parent / "key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    code, _, err = export(repo, capsys, "--release", "v0.1", "--out", str(out), "--sign", str(bad))
    assert code == 2 and f"--sign {bad}: not an unencrypted PEM private key" in err
    assert not out.exists()
    missing = repo.parent / "no" / "such" / "dir" / "e.zip"
    code, _, err = export(repo, capsys, "--release", "v0.1", "--out", str(missing))
    assert code == 2 and f"--out {missing}: cannot write there" in err


def test_sign_applies_to_the_zip_only(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = repo.parent / "k"
    assert run(["keygen", "--out", str(key)], capsys)[0] == 0
    out = repo.parent / "v.html"
    code, _, err = export(
        repo, capsys, "--release", "v0.1", "--format", "html", "--out", str(out), "--sign", str(key)
    )
    assert (
        code == 0 and "note: --sign applies to the zip package; the html view is not signed" in err
    )


def test_a_ledger_that_does_not_verify_is_not_exported(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_dir = git_repo.parent / "ledger"
    common = ["-C", str(git_repo), "--ledger-dir", str(ledger_dir)]
    assert run(["init", *common], capsys)[0] == 0
    report = git_repo.parent / "training.csv"
    report.write_text("name,date\nada,2024-05-01\n")
    assert run(["record", "training_record", str(report), *common], capsys)[0] == 0
    git(git_repo, "tag", "v0.1")
    assert run(["gate", *common, "--release", "v0.1"], capsys)[0] == 1
    entries = ledger_dir / "entries.jsonl"
    entries.write_bytes(
        entries.read_bytes().replace(b"training_record attested", b"training_record attesteD")
    )
    out = git_repo.parent / "e.zip"
    code, _, err = run(["export", *common, "--release", "v0.1", "--out", str(out)], capsys)
    assert code == 2 and "entry 1 (" in err and "hash does not match its content" in err
    assert "run `sdl-tracker ledger verify`" in err
    assert not out.exists()


def test_a_release_without_a_gate_verdict_is_exported_with_a_note(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    report = git_repo.parent / "pentest.txt"
    report.write_text("report\n")
    assert run(["record", "pentest_report", str(report), "-C", str(git_repo)], capsys)[0] == 0
    git(git_repo, "tag", "v0.2")
    out = git_repo.parent / "e.zip"
    code, _, err = run(
        ["export", "-C", str(git_repo), "--release", "v0.2", "--out", str(out)], capsys
    )
    assert code == 0
    assert "note: no gate verdict for v0.2 in the ledger" in err
    assert "run `sdl-tracker gate --release v0.2` first" in err
    with zipfile.ZipFile(out) as z:
        doc = json.loads(z.read("conformance.json"))
    assert doc["gate"] is None and doc["ledger"]["entries"] == 1
    assert doc["notes"][0].startswith("no gate verdict for v0.2")


def test_a_moved_tag_is_not_judged_by_the_old_verdict(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "NEWS").write_text("later\n")
    git(repo, "add", "NEWS")
    git(repo, "commit", "-q", "-m", "after the release")
    git(repo, "tag", "-f", "v0.1")
    code, _, err = export(repo, capsys, "--release", "v0.1", "--out", str(repo.parent / "e.zip"))
    assert code == 0
    assert "the newest gate verdict for v0.1 (entry 2) judged commit" in err
    assert "(the tag was moved)" in err


def test_another_policy_than_the_gates_is_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = repo.parent / "policy.yaml"
    policy.write_text("extends: iec62443-4-1\nnot_applicable:\n  SG-7: no user documentation\n")
    out = repo.parent / "v.json"
    code, _, err = export(
        repo,
        capsys,
        "--release",
        "v0.1",
        "--format",
        "json",
        "--out",
        str(out),
        "--policy",
        str(policy),
    )
    assert code == 0
    assert "re-evaluation differs from the gate verdict (entry 2) for 1 requirements" in err
    doc = json.loads(out.read_text())
    assert doc["gate"]["reproduced"] is False
    assert doc["gate"]["differences"] == [
        "SG-7: the gate recorded missing, re-evaluated not_applicable"
    ]


def test_end_to_end_with_a_real_bandit_scan(
    git_repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """collect --only sast (bandit), gate, export: the bandit finding is in findings.sarif."""
    (git_repo / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    git(git_repo, "add", "app.py")
    git(git_repo, "commit", "-q", "-m", "app")
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    assert run(["collect", "-C", str(git_repo), "--only", "sast"], capsys)[0] == 0
    git(git_repo, "tag", "-a", "v1.0", "-m", "first release")
    run(["gate", "-C", str(git_repo), "--release", "v1.0"], capsys)
    out = tmp_path / "evidence.zip"
    assert (
        run(["export", "-C", str(git_repo), "--release", "v1.0", "--out", str(out)], capsys)[0] == 0
    )
    with zipfile.ZipFile(out) as z:
        log = json.loads(z.read("findings.sarif"))
        z.extract("verify.py", tmp_path)
    assert (
        list(jsonschema.Draft4Validator(schema("sarif-schema-2.1.0.json")).iter_errors(log)) == []
    )
    (bandit,) = log["runs"]
    assert bandit["tool"]["driver"]["name"] == "bandit"
    results = {r["ruleId"]: r for r in bandit["results"]}
    assert sorted(results) == ["B404", "B602"]  # import subprocess; shell=True
    assert results["B602"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    proc = subprocess.run(
        ["/usr/bin/python3", "-I", str(tmp_path / "verify.py"), str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout
