from __future__ import annotations

from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.hooks import _marker, commit_msg

from .framework import Run
from .scenarios import CLEAN, DATA, REVIEWED


def test_framework_passes_a_reviewed_justified_message(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["commit-msg-pass"]
    assert run.status("sdl-commit-msg") == "Passed"
    assert (run.repo / ".git" / "sdl-tracker" / "hooks-ran").is_file()  # for sdl-record


def test_framework_fails_naming_each_problem(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["commit-msg-fail"]
    section = run.section("sdl-commit-msg")
    assert run.status("sdl-commit-msg") == "Failed"
    assert "MSG:3: Reviewed-by: expected `Name <e-mail>`, got 'grace'" in section
    assert "MSG:1: this commit changes security-critical paths (src/agent/verify.py)" in section
    assert "MSG:1: files owned by the threat model threat-model.yaml changed" in section
    assert not (run.repo / ".git" / "sdl-tracker" / "hooks-ran").exists()


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    (git_repo / "threat-model.yaml").write_text((DATA / "threat-model.yaml").read_text())
    (git_repo / ".sdl-tracker.toml").write_text(
        '[hooks]\nsecurity_critical_paths = ["src/agent/*"]\n'
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "threat model")
    return git_repo


def _message(repo: Path, text: str) -> str:
    (repo.parent / "MSG").write_text(text)
    return str(repo.parent / "MSG")


def _stage(repo: Path, name: str) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(CLEAN)
    git(repo, "add", name)


def test_plain_message_passes_and_marks_the_tree(repo: Path) -> None:
    _stage(repo, "docs/notes.md")
    assert commit_msg.main([_message(repo, "Add notes\n\nSigned-off-by: Ada <ada@x.org>\n")]) == 0
    assert _marker.matches(repo, git(repo, "write-tree"))
    assert not _marker.matches(repo, git(repo, "write-tree"))  # consumed


def test_critical_path_with_a_reason_instead_of_a_review(repo: Path) -> None:
    _stage(repo, "src/agent/verify.py")
    text = (
        "Fix a typo in a comment\n\nSecurity-Review: comment only\n"
        "Threat-Model: unchanged comment only\n"
    )
    assert commit_msg.main([_message(repo, text)]) == 0


@pytest.mark.parametrize(
    ("trailers", "expected"),
    [
        (
            "Reviewd-by: Grace <g@x.org>",
            "unknown trailer 'Reviewd-by': did you mean 'Reviewed-by'?",
        ),
        ("Signed-off-by: ada", "Signed-off-by: expected `Name <e-mail>`, got 'ada'"),
        (
            "Threat-Model: unchanged",
            "Threat-Model: expected `Threat-Model: unchanged <reason>`, got 'unchanged'",
        ),
        (
            "Threat-Model: yes",
            "Threat-Model: expected `Threat-Model: unchanged <reason>`, got 'yes'",
        ),
    ],
)
def test_trailer_syntax(
    repo: Path, capsys: pytest.CaptureFixture[str], trailers: str, expected: str
) -> None:
    _stage(repo, "docs/notes.md")
    assert commit_msg.main([_message(repo, f"Subject\n\nBody.\n\n{trailers}\n")]) == 1
    out = capsys.readouterr().out
    assert out == f"{repo.parent / 'MSG'}:5: {expected}\n"
    assert not _marker.path(repo).exists()


def test_changing_the_model_needs_no_justification(repo: Path) -> None:
    _stage(repo, "src/server/api.py")
    (repo / "threat-model.yaml").write_text((repo / "threat-model.yaml").read_text() + "# new\n")
    git(repo, "add", "threat-model.yaml")
    assert commit_msg.main([_message(repo, "Add an endpoint and its threats\n")]) == 0


def test_security_critical_paths_from_the_command_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stage(repo, "docs/notes.md")
    assert commit_msg.main(["--security-critical", "docs/*", _message(repo, "Notes\n")]) == 1
    assert "security-critical paths (docs/notes.md)" in capsys.readouterr().out
    assert commit_msg.main([_message(repo, REVIEWED)]) == 0


def test_a_bad_configuration_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".sdl-tracker.toml").write_text('[hooks]\nsecurity_critical_paths = "src"\n')
    assert commit_msg.main([_message(repo, "Subject\n")]) == 2
    assert "hooks.security_critical_paths: expected a list of globs" in capsys.readouterr().err
