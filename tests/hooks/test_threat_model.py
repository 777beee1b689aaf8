from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.hooks import threat_model
from sdl_tracker.hooks._records import Unmodelled

from .framework import Run
from .scenarios import CLEAN, DATA

MODEL = (DATA / "threat-model.yaml").read_text()


def test_framework_passes_a_valid_model(framework_runs: dict[str, Run]) -> None:
    assert framework_runs["pre-commit-pass"].status("sdl-threat-model") == "Passed"


def test_framework_fails_on_an_invalid_model(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-commit-fail"]
    assert run.status("sdl-threat-model") == "Failed"
    assert "threat-model.yaml:43: $.threats[0].status: 'maybe' is not one of" in run.section(
        "sdl-threat-model"
    )


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    (git_repo / "threat-model.yaml").write_text(MODEL)
    git(git_repo, "add", "threat-model.yaml")
    git(git_repo, "commit", "-q", "-m", "threat model")
    return git_repo


def test_a_valid_model_passes_and_other_files_are_ignored(repo: Path) -> None:
    (repo / "other.yaml").write_text("not: [a, model\n")
    assert threat_model.main(["threat-model.yaml", "other.yaml", "README.md"]) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MODEL.replace("status: accepted", "status: maybe"), "threat-model.yaml:57: $.threats[2]"),
        (
            MODEL.replace("targets: [C-2]", "targets: [C-9]"),
            "threat-model.yaml:47: $.threats[1].targets[0]: 'C-9' names no",
        ),
        ("version: 1\nsystem: [oops\n", "threat-model.yaml:3: invalid YAML"),
        ("hello: world\n", "threat-model.yaml:1: not a threat model sdl-tracker understands"),
    ],
)
def test_an_invalid_model_fails_with_its_place(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    (repo / "threat-model.yaml").write_text(text)
    assert threat_model.main(["threat-model.yaml"]) == 1
    assert capsys.readouterr().out.startswith(expected)


def test_configured_model_paths(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "security").mkdir()
    (repo / "security" / "tm.json").write_text(json.dumps({"summary": {}}))
    (repo / ".sdl-tracker.toml").write_text(
        '[collectors.threat-model]\npaths = ["security/*.json"]\n'
    )
    assert threat_model.main(["security/tm.json", "threat-model.yaml"]) == 1
    assert capsys.readouterr().out.startswith("security/tm.json:")


def _stage(repo: Path, *names: str) -> list[str]:
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(CLEAN)
    git(repo, "add", *names)
    return list(names)


def test_owned_files_changed_without_the_model(repo: Path) -> None:
    staged = _stage(repo, "src/agent/verify.py", "src/server/api.py", "docs/notes.md")
    assert threat_model.unmodelled(repo, staged) == [
        Unmodelled("threat-model.yaml", ("src/agent/verify.py", "src/server/api.py"))
    ]
    # `**` is a glob across directories, `*` is not: git's own glob pathspec rules
    assert threat_model.unmodelled(repo, _stage(repo, "src/agent/deep/x.py")) != []
    assert threat_model.unmodelled(repo, _stage(repo, "deploy/other.yaml")) == []


def test_changing_the_model_too_is_enough(repo: Path) -> None:
    staged = _stage(repo, "src/agent/verify.py")
    (repo / "threat-model.yaml").write_text(MODEL + "# reviewed\n")
    git(repo, "add", "threat-model.yaml")
    assert threat_model.unmodelled(repo, [*staged, "threat-model.yaml"]) == []


def test_owns_from_the_configuration(repo: Path) -> None:
    (repo / ".sdl-tracker.toml").write_text(
        '[collectors.threat-model.owns]\n"threat-model.yaml" = ["lib/**"]\n'
    )
    staged = _stage(repo, "lib/crypto.py")
    assert threat_model.unmodelled(repo, staged) == [
        Unmodelled("threat-model.yaml", ("lib/crypto.py",))
    ]


def test_no_files_is_a_no_op(repo: Path) -> None:
    assert threat_model.main([]) == 0
    assert threat_model.unmodelled(repo, []) == []


def test_without_a_model_the_commit_msg_check_imports_no_parser(git_repo: Path) -> None:
    """The usual repository has no threat model: learning that must not import YAML and the
    importers (sdl-commit-msg's start-up, benchmarks/hooks.py)."""
    from sdl_tracker.collectors import threat_model as collector

    assert collector.NAME == "threat-model"  # the section the hook reads without importing it
    (git_repo / "lib.py").write_text("x = 1\n")
    git(git_repo, "add", "lib.py")
    code = (
        "import sys; from pathlib import Path; from sdl_tracker.hooks import threat_model as t; "
        "assert t.unmodelled(Path('.'), ['lib.py']) == []; "
        "print(sorted(m for m in sys.modules if 'threatmodel' in m or m == 'yaml'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=git_repo, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['sdl_tracker.formats.threatmodel_paths']"
