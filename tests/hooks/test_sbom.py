from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.formats.sbom import document
from sdl_tracker.hooks import sbom

from .framework import Run

CONFIG = '[collectors.sbom]\nsource = "requirements"\n'
PYPROJECT = '[project]\nname = "widget"\nversion = "1.0"\ndependencies = ["packaging"]\n'


def test_framework_passes_when_the_sbom_is_current(framework_runs: dict[str, Run]) -> None:
    assert framework_runs["pre-commit-pass"].status("sdl-sbom") == "Passed"


def test_framework_fails_when_a_pin_changed(framework_runs: dict[str, Run]) -> None:
    run = framework_runs["pre-commit-fail"]
    assert run.status("sdl-sbom") == "Failed"
    assert (
        "sbom.cdx.json:1: out of date (requirements.txt changed): ~ packaging 24.0 -> 24.1"
        in run.section("sdl-sbom")
    )


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(git_repo)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    (git_repo / ".sdl-tracker.toml").write_text(CONFIG)
    (git_repo / "pyproject.toml").write_text(PYPROJECT)
    (git_repo / "requirements.txt").write_text("packaging==24.0\nrfc8785==0.1.4\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "dependencies")
    return git_repo


def test_fix_writes_a_valid_sbom_then_it_is_current(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sbom.main(["requirements.txt"]) == 0  # the project committed no SBOM
    assert capsys.readouterr().out == (
        "sdl-sbom: skipped: no committed SBOM at sbom.cdx.json to keep current "
        "(`sdl-sbom --fix` writes one; [hooks] sbom names another path)\n"
    )
    assert sbom.main(["--fix", "requirements.txt"]) == 1  # fixed: now stage it
    assert "rewritten (requirements.txt changed); stage it: git add sbom.cdx.json" in (
        capsys.readouterr().out
    )
    inventory = document.validate((repo / "sbom.cdx.json").read_bytes(), "sbom.cdx.json")
    assert sorted((c.name, c.version) for c in inventory.components) == [
        ("packaging", "24.0"),
        ("rfc8785", "0.1.4"),
    ]
    assert sbom.main(["requirements.txt", "pyproject.toml"]) == 0
    again = (repo / "sbom.cdx.json").read_bytes()
    assert sbom.main(["--fix", "requirements.txt"]) == 0  # current: nothing rewritten
    assert (repo / "sbom.cdx.json").read_bytes() == again


def test_a_stale_sbom_lists_what_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sbom.main(["--fix", "requirements.txt"])
    (repo / "requirements.txt").write_text("packaging==24.1\nidna==3.7\n")
    capsys.readouterr()
    assert sbom.main(["requirements.txt"]) == 1
    assert capsys.readouterr().out == (
        "sbom.cdx.json:1: out of date (requirements.txt changed): + idna 3.7, - rfc8785 0.1.4, "
        "~ packaging 24.0 -> 24.1; run `sdl-sbom --fix`\n"
    )


def test_the_sbom_path_comes_from_the_configuration(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".sdl-tracker.toml").write_text(CONFIG + '[hooks]\nsbom = "dist/bom.json"\n')
    assert sbom.main(["--fix", "requirements.txt"]) == 1
    assert (repo / "dist" / "bom.json").is_file()
    assert sbom.main(["--sbom", "dist/bom.json", "requirements.txt"]) == 0
    assert sbom.main(["--sbom", "other.json", "requirements.txt"]) == 0
    assert "no committed SBOM at other.json" in capsys.readouterr().out.splitlines()[-1]


def test_unpinned_requirements_cannot_be_checked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "requirements.txt").write_text("packaging>=24\n")
    (repo / "sbom.cdx.json").write_text("{}")
    assert sbom.main(["requirements.txt"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("requirements.txt:1: cannot build the SBOM to compare with sbom.cdx.json")
    assert "is not pinned: use packaging==VERSION" in out


def test_the_environment_source_without_an_interpreter_says_what_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".sdl-tracker.toml").write_text("")
    (repo / "sbom.cdx.json").write_text("{}")
    assert sbom.main(["pyproject.toml"]) == 1
    assert 'names no environment: set python = ".venv/bin/python"' in capsys.readouterr().out


def test_the_environment_of_the_configured_interpreter_is_compared(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".sdl-tracker.toml").write_text(f'[collectors.sbom]\npython = "{sys.executable}"\n')
    assert sbom.main(["--fix", "pyproject.toml"]) == 1
    inventory = document.validate((repo / "sbom.cdx.json").read_bytes(), "sbom.cdx.json")
    assert [c.name for c in inventory.components] == ["packaging"]
    assert sbom.main(["pyproject.toml"]) == 0


def test_an_ingested_sbom_cannot_be_rebuilt(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".sdl-tracker.toml").write_text('[collectors.sbom]\ningest = "build/bom.json"\n')
    (repo / "sbom.cdx.json").write_text("{}")
    assert sbom.main(["requirements.txt"]) == 1
    assert "your build makes the SBOM, which this hook cannot run" in capsys.readouterr().out


def test_an_invalid_committed_sbom_fails(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "sbom.cdx.json").write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "none"}'
    )
    assert sbom.main(["requirements.txt"]) == 1
    assert capsys.readouterr().out.startswith("sbom.cdx.json:1: sbom.cdx.json")


@pytest.mark.parametrize(
    ("name", "manifest"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("requirements/prod.txt", True),
        ("sub/pyproject.toml", True),
        ("pylock.toml", True),
        ("pylock.web.toml", True),
        ("uv.lock", True),
        ("poetry.lock", True),
        ("notes.txt", False),
        ("setup.py", False),
    ],
)
def test_manifests(name: str, manifest: bool) -> None:
    assert sbom.is_manifest(name) is manifest


def test_no_manifest_is_a_no_op(repo: Path) -> None:
    assert sbom.main(["README.md", "src/app.py"]) == 0
    assert not (repo / "sbom.cdx.json").exists()
