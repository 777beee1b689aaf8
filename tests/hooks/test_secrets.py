from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.hooks import secrets

from .framework import Run
from .scenarios import AWS_KEY

DETECT_SECRETS = Path(sys.executable).parent / "detect-secrets"


def test_framework_passes_files_without_secrets(framework_runs: dict[str, Run]) -> None:
    assert framework_runs["pre-commit-pass"].status("sdl-secrets") == "Passed"


def test_framework_fails_on_a_planted_secret(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-commit-fail"]
    section = run.section("sdl-secrets")
    assert run.status("sdl-secrets") == "Failed"
    assert "deploy.env:1: AWS Access Key: remove it" in section
    assert AWS_KEY not in run.output


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    return git_repo


def _stage(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    git(repo, "add", name)


def test_a_secret_fails_and_is_never_printed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stage(repo, "settings.ini", f"[aws]\nkey = {AWS_KEY}\n")
    _stage(repo, "README.md", "# demo\nno secret\n")
    assert secrets.main(["settings.ini", "README.md"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("settings.ini:2: AWS Access Key: remove it (and rotate it")
    assert "`detect-secrets scan > .secrets.baseline`" in out
    assert AWS_KEY not in out and len(out.splitlines()) == 1


def test_a_baselined_secret_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _stage(repo, "settings.ini", f"[aws]\nkey = {AWS_KEY}\n")
    baseline = subprocess.run(
        [str(DETECT_SECRETS), "scan", "settings.ini"], cwd=repo, capture_output=True, check=True
    ).stdout
    (repo / ".secrets.baseline").write_bytes(baseline)
    assert secrets.main(["settings.ini", ".secrets.baseline"]) == 0
    assert capsys.readouterr().out == ""
    # a second, new secret is still found; the message now points at the baseline
    _stage(repo, "more.ini", f"key = {'AKIA' + 'Z' * 16}\n")
    assert secrets.main(["settings.ini", "more.ini"]) == 1
    assert "more.ini:1: AWS Access Key" in capsys.readouterr().out


def test_the_configured_baseline_is_used(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _stage(repo, "settings.ini", f"key = {AWS_KEY}\n")
    baseline = subprocess.run(
        [str(DETECT_SECRETS), "scan", "settings.ini"], cwd=repo, capture_output=True, check=True
    ).stdout
    (repo / "ci").mkdir()
    (repo / "ci" / "secrets.json").write_bytes(baseline)
    (repo / ".sdl-tracker.toml").write_text('[collectors.secrets]\nbaseline = "ci/secrets.json"\n')
    assert secrets.main(["settings.ini"]) == 0


def test_the_staged_content_is_scanned_not_the_work_tree(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(repo, "app.cfg", f"token = {AWS_KEY}\n")
    (repo / "app.cfg").write_text("token = from-the-environment\n")  # not staged
    assert secrets.main(["app.cfg"]) == 1
    assert "app.cfg:1: AWS Access Key" in capsys.readouterr().out
    # pre-commit stashes unstaged changes itself, so there the work tree is what is committed
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert secrets.main(["app.cfg"]) == 0


def test_a_file_that_cannot_be_decoded_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "latin.txt").write_bytes(b"caf\xe9 = ok\n")
    git(repo, "add", "latin.txt")
    assert secrets.main(["latin.txt"]) == 1
    assert "latin.txt:1: not scanned: the file cannot be decoded" in capsys.readouterr().out


def test_no_files_is_a_no_op(repo: Path) -> None:
    assert secrets.main([]) == 0


def test_a_broken_baseline_exits_2_naming_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".secrets.baseline").write_text("{")
    _stage(repo, "a.txt", "hello\n")
    assert secrets.main(["a.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sdl-secrets: error: .secrets.baseline: line 1 column 2: invalid JSON")
