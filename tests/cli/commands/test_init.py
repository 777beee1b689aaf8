"""`init` looks at the repository before it writes: tags, test reports, dependencies, packages."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import config
from sdl_tracker.cli import survey
from sdl_tracker.cli.main import main


def _commit(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "files")


PYPROJECT = (
    '[project]\nname = "widget"\nversion = "1.0"\ndependencies = ["packaging"]\n'
    '[tool.pytest.ini_options]\naddopts = "-q --junitxml=reports/pytest.xml"\n'
)


def test_init_detects_and_writes_what_it_chose(
    git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    _commit(
        git_repo,
        {
            "pyproject.toml": PYPROJECT,
            "src/widget/__init__.py": "",
            "tests/__init__.py": "",
            "tests/test_widget.py": "",
            "examples/demo.py": "",
            "requirements/base.txt": "packaging==24.0\n",
            "requirements/tests.txt": "pytest==8.0\n",
        },
    )
    for tag in ("4.2.1", "5.0", "5.0.1", "nightly"):
        git(git_repo, "tag", tag)
    assert main(["init", "--repo", str(git_repo)]) == 0
    err = capsys.readouterr().err
    assert (
        'detected: [collectors.releases] tag_pattern = "[0-9]*" (3 of 4 tags look like 5.0.1)'
        in err
    )
    assert 'detected: [collectors.tests] junit = ["reports/pytest.xml"]' in err
    assert "development requirements, not audited as the product's: requirements/tests.txt" in err
    assert "sast leaves out (not shipped): examples, tests" in err
    assert "git add .sdl-tracker.toml .gitignore && git commit" in err
    cfg = config.load(git_repo)
    assert cfg.collector("releases")["tag_pattern"] == "[0-9]*"
    assert cfg.collector("review")["tag_pattern"] == "[0-9]*"
    assert cfg.collector("documents")["tag_pattern"] == "[0-9]*"
    assert cfg.section("hooks")["release_tags"] == "[0-9]*"
    assert cfg.collector("tests")["junit"] == ["reports/pytest.xml"]
    assert cfg.collector("deps")["source"] == "pyproject"
    assert cfg.collector("sbom")["requirements"] == ["requirements/base.txt"]
    assert cfg.collector("sast")["paths"] == ["src/widget"]
    assert (git_repo / ".gitignore").read_text() == "sdl-reports/\n"
    # the release tag it detected is the one the collectors now use
    git(git_repo, "commit", "-q", "--allow-empty", "-m", "after the release")
    assert main(["collect", "--only", "releases,sast", "--repo", str(git_repo)]) in (0, 1)
    assert "tag_pattern" not in capsys.readouterr().err


def test_a_project_virtualenv_is_the_product_s_environment(
    git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    (git_repo / ".venv" / "bin").mkdir(parents=True)
    (git_repo / ".venv" / "bin" / "python").symlink_to(sys.executable)
    assert main(["init", "--repo", str(git_repo)]) == 0
    cfg = config.load(git_repo)
    assert cfg.collector("deps") == {"source": "environment", "python": ".venv/bin/python"}
    assert cfg.collector("sbom") == {"source": "environment", "python": ".venv/bin/python"}
    assert "release tags: v*, the default (no tags yet: tag releases like v1.2.0)" in (
        capsys.readouterr().err
    )


def test_the_virtualenv_sdl_tracker_runs_in_is_never_chosen(tmp_path: Path) -> None:
    venv = tmp_path / "tool-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    root = tmp_path / "repo"
    root.mkdir()
    found = survey.dependencies(root, [], str(venv), str(venv))
    assert not found.settings
    assert any("sdl-tracker runs in it" in n for n in found.notes)
    other = survey.dependencies(root, [], str(venv), sys.prefix)
    assert ("collectors.deps", "python", str(venv / "bin" / "python")) in {
        (s.section, s.key, s.value) for s in other.settings
    }


@pytest.mark.parametrize(
    ("tags", "written", "pattern"),
    [
        ((), False, "v*"),
        (("v1.0.0", "v1.1.0"), False, "v*"),
        (("1.0", "2.0.1"), True, "[0-9]*"),
        (("release-1.2", "release-1.3", "v0.1"), True, "release-[0-9]*"),
        (("latest", "stable"), False, "v*"),
    ],
)
def test_tag_schemes(tags: tuple[str, ...], written: bool, pattern: str) -> None:
    found = survey.tag_scheme(tags)
    if written:
        assert {s.value for s in found.settings} == {pattern}
    else:
        assert not found.settings and found.notes[0].startswith(f"release tags: {pattern},")


def test_a_kept_configuration_and_an_ignored_folder_are_left_alone(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(git_repo, {".gitignore": "*.pyc\n/sdl-reports/\n"})
    assert main(["init", "--repo", str(git_repo)]) == 0
    assert "gitignore: sdl-reports/ already ignored" in capsys.readouterr().err
    assert (git_repo / ".gitignore").read_text() == "*.pyc\n/sdl-reports/\n"
    assert main(["init", "--repo", str(git_repo)]) == 0
    assert "(kept as it is)" in capsys.readouterr().err


def test_pyproject_mode_nests_the_detected_tables(git_repo: Path) -> None:
    _commit(git_repo, {"pyproject.toml": PYPROJECT})
    git(git_repo, "tag", "1.0")
    assert main(["init", "--pyproject", "--repo", str(git_repo)]) == 0
    cfg = config.load(git_repo)
    assert cfg.source == git_repo / "pyproject.toml"
    assert cfg.collector("releases")["tag_pattern"] == "[0-9]*"
    assert cfg.section("hooks")["release_tags"] == "[0-9]*"
    assert os.path.exists(git_repo / ".gitignore")


def test_templates_write_skeletons_with_the_required_headings_and_never_overwrite(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    _commit(git_repo, {"SECURITY.md": "# Our own policy\n"})
    (git_repo / "docs").mkdir()
    (git_repo / "docs" / "hardening.md").symlink_to("nowhere.md")  # dangling: still kept
    assert main(["init", "--templates", "--repo", str(git_repo)]) == 0
    err = capsys.readouterr().err
    assert "templates: kept SECURITY.md (document:vulnerability_disclosure_policy, exists)" in err
    assert "templates: kept docs/hardening.md" in err
    assert "templates: wrote docs/support-policy.md (document:support_policy for SUM-2" in err
    assert (git_repo / "SECURITY.md").read_text() == "# Our own policy\n"
    support = (git_repo / "docs" / "support-policy.md").read_text()
    for heading in ("## Supported versions", "## Installing security updates", "## Third-party"):
        assert heading in support
    assert "Which versions receive security updates, and until when." in support
    # committed as they are, with a reviewer: complete in headings, but not written yet
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "docs", "-m", "Reviewed-by: Bob <bob@example.com>")
    capsys.readouterr()
    assert (
        main(["collect", "--only", "documents", "--repo", str(git_repo), "--format", "json"]) == 0
    )
    preds = {
        e["statement"]["predicate"]["kind"]: e["statement"]["predicate"]
        for e in json.loads(capsys.readouterr().out)
    }
    support_pred = preds["document:support_policy"]
    assert support_pred["details"]["missing_sections"] == []
    assert support_pred["result"]["status"] == "fail"
    assert "unedited skeleton of `init --templates`" in support_pred["result"]["summary"]
    # a second run writes nothing
    assert main(["init", "--templates", "--repo", str(git_repo)]) == 0
    assert "templates: wrote" not in capsys.readouterr().err


def test_cra_templates_only_with_the_cra_framework(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user information of the CRA (Annex II sections) is written by `init --templates
    --framework cra`, never for a 62443-4-1-only project."""
    assert main(["init", "--templates", "--repo", str(git_repo)]) == 0
    assert not (git_repo / "docs" / "user-information.md").exists()
    capsys.readouterr()
    argv = ["init", "--templates", "--framework", "cra", "--repo", str(git_repo)]
    assert main(argv) == 0
    assert (
        "templates: wrote docs/user-information.md (document:user_manual for CRA-13-18)"
        in capsys.readouterr().err
    )
    text = (git_repo / "docs" / "user-information.md").read_text()
    for heading in ("## Manufacturer and contact", "## Support period", "## Security updates"):
        assert heading in text
