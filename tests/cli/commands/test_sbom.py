from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

V1 = "chardet==3.0.4\nidna==2.7\nrequests==2.19.0\n"
V2 = "idna==2.7\nrequests==2.20.0\nurllib3==1.24.1\n"


def _release(repo: Path, requirements: str, tag: str) -> None:
    (repo / "requirements.txt").write_text(requirements)
    git(repo, "add", "requirements.txt")
    git(repo, "commit", "-q", "-m", f"release {tag}")
    git(repo, "tag", tag)
    assert main(["collect", "--only", "sbom", "--repo", str(repo)]) == 0


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    with (git_repo / ".sdl-tracker.toml").open("a") as f:
        f.write('\n[collectors.sbom]\nsource = "requirements"\n')
    _release(git_repo, V1, "v1.0")
    _release(git_repo, V2, "v1.1")
    capsys.readouterr()
    return git_repo


def _diff(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sbom", "diff", *args, "--repo", str(repo)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_diff_between_tags_as_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _diff(repo, capsys, "v1.0", "v1.1", "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["added"] == [
        {
            "key": "pkg:pypi/urllib3",
            "name": "urllib3",
            "version": "1.24.1",
            "purl": "pkg:pypi/urllib3@1.24.1",
        },
    ]
    assert result["removed"] == [
        {
            "key": "pkg:pypi/chardet",
            "name": "chardet",
            "version": "3.0.4",
            "purl": "pkg:pypi/chardet@3.0.4",
        },
    ]
    assert result["changed"] == [
        {"key": "pkg:pypi/requests", "name": "requests", "old": ["2.19.0"], "new": ["2.20.0"]}
    ]
    assert result["unchanged"] == 1
    assert (result["old"]["entry"], result["new"]["entry"]) == (1, 2)
    assert result["old"]["commit"] == git(repo, "rev-parse", "v1.0^{commit}")
    assert result["new"]["product"] == {"name": "repo", "version": "v1.1"}


def test_refs_by_seq_and_artifact_digest(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = list(ledger.entries(GitStore(repo)))
    digests = [e.statement().artifacts[0].sha256 for e in entries]
    _, by_tag, _ = _diff(repo, capsys, "v1.0", "v1.1", "--format", "json")
    code, by_ref, _ = _diff(repo, capsys, "1", digests[1][:10], "--format", "json")
    assert code == 0
    strip = lambda d: {k: v for k, v in json.loads(d).items() if k not in ("old", "new")}  # noqa: E731
    assert strip(by_ref) == strip(by_tag)
    code, _, err = _diff(repo, capsys, f"sha256:{digests[0]}", "2")
    assert code == 0
    assert "+ urllib3 1.24.1" in err
    assert "- chardet 3.0.4" in err
    assert "~ requests 2.19.0 -> 2.20.0" in err
    assert "1 added, 1 removed, 1 changed, 1 unchanged" in err


def test_markdown_for_release_notes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _diff(repo, capsys, "v1.0", "v1.1", "--format", "markdown")
    assert code == 0
    assert err == ""
    assert out.startswith("### Dependent component updates\n")
    rows = [line for line in out.splitlines() if line.startswith("| ") and "Change" not in line]
    assert rows == [
        "| added | urllib3 | | 1.24.1 |",
        "| removed | chardet | 3.0.4 | |",
        "| changed | requests | 2.19.0 | 2.20.0 |",
    ]


def test_reaffirmed_entry_on_a_later_commit_is_found(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "docs only")
    assert main(["collect", "--only", "sbom", "--repo", str(repo)]) == 0
    code, out, _ = _diff(repo, capsys, "v1.1", "HEAD", "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["new"]["entry"] == 3
    assert (result["added"], result["removed"], result["changed"]) == ([], [], [])
    assert result["unchanged"] == 3


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("no-such-ref", "'no-such-ref': not an SBOM entry, artifact digest or git revision"),
        ("main~2", "no SBOM recorded for commit"),
        ("sha256:ffffff", "not an SBOM entry"),
        ("99", "not an SBOM entry"),
    ],
)
def test_unknown_ref_exits_2_with_what_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str], ref: str, expected: str
) -> None:
    code, out, err = _diff(repo, capsys, ref, "v1.1")
    assert code == 2
    assert out == ""
    assert expected in err
    assert "sdl-tracker collect --only sbom" in err


def test_entry_without_sbom_is_named(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = tmp_path / "training.csv"
    note.write_text("name,date\nada,2024-05-01\n")
    assert main(["record", "training_record", str(note), "--repo", str(repo)]) == 0
    code, _, err = _diff(repo, capsys, "3", "v1.1")
    assert code == 2
    assert "entry 3 holds no SBOM" in err
