from __future__ import annotations

import subprocess
import sys
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


def test_trailer_settings_of_the_repository_apply(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trailers are read with the repository's git configuration, as git reads them."""
    _stage(repo, "docs/notes.md")
    git(repo, "config", "trailer.sign.key", "Signed-off-by")
    assert commit_msg.main([_message(repo, "Subject\n\nsign: ada\n")]) == 1
    assert "MSG:3: Signed-off-by: expected `Name <e-mail>`, got 'ada'" in capsys.readouterr().out
    git(repo, "config", "trailer.separators", "#")
    assert commit_msg.main([_message(repo, "Subject\n\nReviewed-by# Grace <g@x.org>\n")]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--security-critical=docs/*", "MSG"],
        ["--security-critical", "docs/*", "--", "MSG"],
        ["--security-crit", "docs/*", "MSG"],  # an abbreviation, as argparse allows
    ],
)
def test_option_forms(repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    _stage(repo, "docs/notes.md")
    message = _message(repo, "Notes\n")
    assert commit_msg.main([message if a == "MSG" else a for a in argv]) == 1
    assert "security-critical paths (docs/notes.md)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (["--help"], 0, "usage: sdl-commit-msg [-h] [--security-critical GLOB] message_file"),
        ([], 2, "error: the following arguments are required: message_file"),
        (["a", "b"], 2, "error: unrecognized arguments: b"),
        (["--security-critical"], 2, "error: argument --security-critical: expected one argument"),
        (["--colour", "a"], 2, "error: unrecognized arguments: --colour"),
    ],
)
def test_help_and_mistakes_are_argparse_s(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, expected: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        commit_msg.main(argv)
    assert exited.value.code == code
    captured = capsys.readouterr()
    assert expected in captured.out + captured.err


def test_the_usual_path_imports_little(repo: Path) -> None:
    """No configuration file, no threat model: argparse, subprocess, pathlib, TOML, typing and
    dataclasses are not imported (the hook's start-up, benchmarks/hooks.py)."""
    (repo / ".sdl-tracker.toml").unlink()
    git(repo, "rm", "-q", "--cached", "threat-model.yaml", ".sdl-tracker.toml")
    (repo / "threat-model.yaml").unlink()
    _stage(repo, "src/agent/verify.py")
    code = (
        "import sys; before = set(sys.modules); from sdl_tracker.hooks import commit_msg; "
        "code = commit_msg.main([sys.argv[1]]); "
        "heavy = {'argparse', 'subprocess', 'pathlib', 'tomllib', 'tomli', 'typing', "
        "'dataclasses', 'sdl_tracker.config', 'sdl_tracker.gitdata.git'}; "
        "print(code, sorted(heavy & (set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, _message(repo, "Subject\n\nSigned-off-by: A <a@x.org>\n")],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "0 []\n"
    assert _marker.matches(repo, git(repo, "write-tree"))


def test_a_pyproject_naming_sdl_tracker_is_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".sdl-tracker.toml").unlink()
    (repo / "pyproject.toml").write_text(
        '[tool.sdl-tracker.hooks]\nsecurity_critical_paths = ["docs/*"]\n'
    )
    _stage(repo, "docs/notes.md")
    assert commit_msg.main([_message(repo, "Notes\n\nThreat-Model: unchanged docs\n")]) == 1
    assert "security-critical paths (docs/notes.md)" in capsys.readouterr().out


def test_default_model_search_matches_discover(tmp_path: Path) -> None:
    from sdl_tracker.formats.threatmodel_paths import DEFAULT_PATHS, default_found, discover

    assert not default_found(str(tmp_path))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.threagile.yml").write_text("")  # only *.threagile.yml at the top
    (tmp_path / "threat-model.json").mkdir()  # a folder is no model
    (tmp_path / "a.pytm.json.bak").write_text("")
    (tmp_path / "gone.threatdragon.json").symlink_to(tmp_path / "nowhere")
    assert discover(tmp_path, DEFAULT_PATHS)[0] == []
    assert not default_found(str(tmp_path))
    for name in ("docs/.hidden.threagile.yaml", "docs/threat-model.yml", "m.pytm.json"):
        (tmp_path / name).write_text("")
        assert discover(tmp_path, DEFAULT_PATHS)[0] == [name]
        assert default_found(str(tmp_path))
        (tmp_path / name).unlink()
