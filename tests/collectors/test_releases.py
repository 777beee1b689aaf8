from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

CHANGELOG = """\
# Changelog

## [Unreleased]

## [1.1.0] - 2024-06-01

### Fixed

- a crash

### Security

- XSS in the login form (GHSA-2c5q-p9vm-9f3x, CVE-2024-1234)
- bumped urllib3 for PYSEC-2024-12; see also CVE-2024-1234

```
## not a heading (fenced)
```

## [1.1.0-rc1] - 2024-05-20

### Security

- CVE-2024-9999

## [1.0.0] - 2024-05-01

### Security

- CVE-2023-0001
"""


def _bom(*components: tuple[str, str]) -> str:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "components": [
                {"type": "library", "name": n, "version": v, "purl": f"pkg:pypi/{n}@{v}"}
                for n, v in components
            ],
        }
    )


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    return git_repo


def release(
    repo: Path, tag: str, notes: str | None, bom: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if notes is not None:
        (repo / "CHANGELOG.md").write_text(notes)
        git(repo, "add", "CHANGELOG.md")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"release {tag}")
    git(repo, "tag", "-a", tag, "-m", tag)
    if bom is not None:
        path = repo.parent / f"{tag}.cdx.json"
        path.write_text(bom)
        args = ["collect", "--only", "sbom", "--repo", str(repo), "--from-report", str(path)]
        assert main(args) == 0, capsys.readouterr().err


def collect(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict, dict]:
    capsys.readouterr()
    code = main(["collect", "--only", "releases", "--repo", str(repo), "--format", "json", *args])
    assert code == 0, capsys.readouterr().err
    (entry,) = json.loads(capsys.readouterr().out)
    statement = entry["statement"]
    report = {}
    for subject in statement["subject"][1:]:
        report = json.loads(GitStore(repo).read_object(subject["digest"]["sha256"]) or b"")
    return statement["predicate"], report


def test_release_with_security_section_and_sbom_diff(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release(repo, "v1.0.0", CHANGELOG, _bom(("requests", "2.31.0"), ("idna", "3.6")), capsys)
    release(
        repo,
        "v1.1.0",
        None,
        _bom(("requests", "2.32.3"), ("idna", "3.6"), ("urllib3", "2.2.2")),
        capsys,
    )
    pred, report = collect(repo, capsys)
    assert pred["kind"] == "release_notes"
    assert pred["requirements"] == ["SUM-1", "SUM-2", "SUM-3", "SUM-4"]
    assert pred["result"]["status"] == "pass"
    assert pred["result"]["metrics"] == {
        "releases": 2,
        "has_notes": 1,
        "has_release_section": 1,
        "has_security_section": 1,
        "advisories": 3,
        "sbom_diff": 1,
        "components_added": 1,
        "components_removed": 0,
        "components_changed": 1,
    }
    assert pred["result"]["summary"] == (
        "v1.1.0: security section with 3 advisories; "
        "SBOM diff v1.0.0..v1.1.0: 1 added, 0 removed, 1 changed"
    )
    assert report["advisories"] == ["GHSA-2c5q-p9vm-9f3x", "CVE-2024-1234", "PYSEC-2024-12"]
    assert report["notes"]["release_heading"] == "[1.1.0] - 2024-06-01"
    assert report["notes"]["security_line"] == 11
    assert report["sbom"]["diff"]["changed"] == [
        {"name": "requests", "old": ["2.31.0"], "new": ["2.32.3"]}
    ]
    assert report["previous"]["tag"] == "v1.0.0"


def test_first_release_and_missing_sbom(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release(repo, "v1.0.0", CHANGELOG, None, capsys)
    pred, _ = collect(repo, capsys)
    assert pred["result"]["status"] == "pass"
    assert pred["result"]["metrics"]["advisories"] == 1
    assert pred["result"]["summary"].endswith("first release: no SBOM diff")
    release(repo, "v1.1.0", None, _bom(("idna", "3.6")), capsys)
    pred, report = collect(repo, capsys)
    assert pred["result"]["metrics"]["sbom_diff"] == 0
    assert (
        "no SBOM recorded for v1.0.0: run `sdl-tracker collect --only sbom`"
        in (pred["result"]["summary"])
    )
    assert report["sbom"]["release_entry"] is not None
    assert report["sbom"]["previous_entry"] is None


@pytest.mark.parametrize(
    ("notes", "summary"),
    [
        (None, "v2.0.0: no CHANGELOG.md in the tagged tree"),
        (
            "# Changelog\n\n## 1.0.0\n\n- x\n",
            "v2.0.0: CHANGELOG.md has no section for this release",
        ),
        ("## 2.0.0-rc1\n\n### Security\n", "v2.0.0: CHANGELOG.md has no section for this release"),
        (
            "## 2.0.0\n\n### Fixed\n\n- x\n\n## 1.0.0\n\n### Security\n",
            "v2.0.0: the CHANGELOG.md section has no security heading",
        ),
    ],
)
def test_notes_problems_fail(
    repo: Path, capsys: pytest.CaptureFixture[str], notes: str | None, summary: str
) -> None:
    release(repo, "v2.0.0", notes, None, capsys)
    pred, _ = collect(repo, capsys)
    assert pred["result"]["status"] == "fail"
    assert pred["result"]["summary"].startswith(summary)


def test_restructuredtext_notes_and_release_option(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + '\n[collectors.releases]\nnotes = "CHANGES.rst"\ntag_pattern = "release-*"\n'
    )
    (repo / "CHANGES.rst").write_text(
        "Changes\n=======\n\n3.0\n---\n\nSecurity fixes\n~~~~~~~~~~~~~~\n\n* CVE-2024-0001\n\n"
        "Other\n~~~~~\n\n* CVE-2020-0002 is not in the security section\n\n2.0\n---\n"
    )
    git(repo, "add", "CHANGES.rst")
    git(repo, "commit", "-q", "-m", "notes")
    git(repo, "tag", "release-3.0")
    git(repo, "commit", "-q", "--allow-empty", "-m", "after the release")
    pred, report = collect(repo, capsys)  # HEAD is not tagged: the newest release before it
    assert pred["result"]["status"] == "pass"
    assert report["advisories"] == ["CVE-2024-0001"]
    assert report["notes"]["security_heading"] == "Security fixes"
    git(repo, "tag", "v9")  # not a release tag under this pattern, but named explicitly
    pred, _ = collect(repo, capsys, "--release", "v9", "--force")
    assert pred["result"]["summary"].startswith("v9: CHANGES.rst has no section")


def test_no_release_tag_is_incomplete(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, _ = collect(repo, capsys)
    assert pred["result"]["status"] == "incomplete"
    assert "no release tag matching 'v*'" in pred["result"]["summary"]
    assert pred["result"]["metrics"] == {"releases": 0}


def test_unknown_release_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(list(ledger.entries(GitStore(repo))))
    assert main(["collect", "--only", "releases", "--repo", str(repo), "--release", "v7"]) == 2
    assert "--release 'v7': no such tag" in capsys.readouterr().err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_directory_ledger(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger_dir = tmp_path / "ledger"
    assert main(["init", "--repo", str(repo), "--ledger-dir", str(ledger_dir)]) == 0
    release(repo, "v1.0.0", CHANGELOG, None, capsys)
    for tag, bom in (("v1.0.0", _bom(("idna", "3.5"))), ("v1.1.0", _bom(("idna", "3.6")))):
        if tag == "v1.1.0":
            git(repo, "commit", "-q", "--allow-empty", "-m", "release")
            git(repo, "tag", "-a", tag, "-m", tag)
        path = tmp_path / f"{tag}.json"
        path.write_text(bom)
        assert (
            main(
                [
                    "collect",
                    "--only",
                    "sbom",
                    "--repo",
                    str(repo),
                    "--ledger-dir",
                    str(ledger_dir),
                    "--from-report",
                    str(path),
                ]
            )
            == 0
        )
    capsys.readouterr()
    assert (
        main(
            [
                "collect",
                "--only",
                "releases",
                "--repo",
                str(repo),
                "--ledger-dir",
                str(ledger_dir),
                "--format",
                "json",
            ]
        )
        == 0
    )
    (entry,) = json.loads(capsys.readouterr().out)
    metrics = entry["statement"]["predicate"]["result"]["metrics"]
    assert (metrics["sbom_diff"], metrics["components_changed"]) == (1, 1)
