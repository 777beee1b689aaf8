from __future__ import annotations

from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.hooks import bandit

from .framework import Run
from .scenarios import CLEAN, SHELL

PICKLE = "import pickle\n\n\ndef load(data):\n    return pickle.loads(data)\n"  # B301 MEDIUM
BROKEN = "def broken(:\n    pass\n"


def test_framework_passes_clean_python(framework_runs: dict[str, Run]) -> None:
    assert framework_runs["pre-commit-pass"].status("sdl-bandit") == "Passed"


def test_framework_fails_on_a_high_finding(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-commit-fail"]
    assert run.status("sdl-bandit") == "Failed"
    assert "src/run.py:5: B602 (HIGH severity, HIGH confidence)" in run.section("sdl-bandit")


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    return git_repo


def _write(repo: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", *files)
    return list(files)


def test_high_finding_fails_below_threshold_passes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _write(repo, {"app/run.py": SHELL, "app/store.py": PICKLE, "app/ok.py": CLEAN})
    assert bandit.main(files) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("app/run.py:5: B602 (HIGH severity, HIGH confidence) subprocess")
    assert not any("store.py" in line for line in out)  # MEDIUM is below the default HIGH
    assert out[-1].startswith("sdl-bandit: fix them, or suppress a reviewed one with `# nosec")
    assert bandit.main(["app/store.py", "app/ok.py"]) == 0


def test_the_configured_and_the_given_threshold(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _write(repo, {"store.py": PICKLE})
    (repo / ".sdl-tracker.toml").write_text('[collectors.sast]\nseverity_threshold = "medium"\n')
    assert bandit.main(files) == 1
    assert "store.py:5: B301 (MEDIUM severity" in capsys.readouterr().out
    assert bandit.main(["--severity-threshold", "high", *files]) == 0


def test_nosec_exclusions_and_paths_are_honoured(repo: Path) -> None:
    nosec = SHELL.replace("shell=True)", "shell=True)  # nosec B602")
    _write(repo, {"a.py": nosec, "vendor/b.py": SHELL, "tools/c.py": SHELL})
    (repo / ".sdl-tracker.toml").write_text(
        '[collectors.sast]\npaths = ["a.py", "vendor"]\nexclude = ["vendor"]\n'
    )
    assert bandit.main(["a.py", "vendor/b.py", "tools/c.py"]) == 0


def test_a_file_bandit_cannot_parse_fails(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _write(repo, {"broken.py": BROKEN})
    assert bandit.main(files) == 1
    assert capsys.readouterr().out.startswith("broken.py:1: bandit could not scan it:")


def test_non_python_files_are_a_no_op(repo: Path) -> None:
    _write(repo, {"notes.txt": "subprocess.call(cmd, shell=True)\n"})
    assert bandit.main(["notes.txt", "README.md"]) == 0


def test_python_scripts_without_suffix_are_scanned(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(repo, {"bin/deploy": "#!/usr/bin/env python3\n" + SHELL})
    assert bandit.main(["bin/deploy"]) == 1
    assert "bin/deploy:6: B602" in capsys.readouterr().out


def test_bad_configuration_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _write(repo, {"a.py": CLEAN})
    (repo / ".sdl-tracker.toml").write_text('[collectors.sast]\nseverity_threshold = "severe"\n')
    assert bandit.main(files) == 2
    assert "severity_threshold: expected one of low, medium, high" in capsys.readouterr().err
