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


def test_runs_bandit_in_process_with_its_own_files_and_exit_codes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hook runs the installed bandit in its own process: the same report as the bandit
    subprocess the collector starts, bandit's `.bandit` ini and baseline honoured, and a
    configuration bandit refuses is exit 2 with bandit's own message."""
    import json
    import subprocess
    import sys

    from sdl_tracker.collectors.sast import bandit as sast_bandit

    files = _write(repo, {"run.py": SHELL, "store.py": PICKLE, "bad.py": BROKEN, "ok.py": CLEAN})
    (repo / ".bandit").write_text("[bandit]\nskips = B403\n")
    cfg = sast_bandit.SastConfig.load({}, repo)
    located = sast_bandit.locate(cfg)
    assert located is not None and located.importable
    reports = []
    for outcome in (
        sast_bandit.run(repo, located, cfg, files),
        sast_bandit.run_in_process(repo, cfg, files),
    ):
        assert isinstance(outcome, sast_bandit.Ran)
        report = json.loads(outcome.report)
        report.pop("generated_at")
        reports.append(report)
    assert reports[0] == reports[1]
    assert {r["test_id"] for r in reports[1]["results"]} == {"B602", "B404", "B301"}  # B403 skipped
    assert [e["filename"] for e in reports[1]["errors"]] == ["./bad.py"]

    baseline = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-f", "json", "run.py"],
        cwd=repo,
        capture_output=True,
        check=False,
    ).stdout
    (repo / "baseline.json").write_bytes(baseline)
    (repo / ".sdl-tracker.toml").write_text('[collectors.sast]\nbaseline = "baseline.json"\n')
    assert bandit.main(["run.py"]) == 0  # the finding is in bandit's baseline
    (repo / "bandit.yaml").write_text("skips: [B602\n")
    (repo / ".sdl-tracker.toml").write_text('[collectors.sast]\nconfig = "bandit.yaml"\n')
    capsys.readouterr()
    assert bandit.main(["run.py"]) == 2
    out = capsys.readouterr().out
    assert "sdl-bandit: bandit exited 2: bandit.yaml : Error parsing file." in out
