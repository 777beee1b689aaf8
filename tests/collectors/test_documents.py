from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.workspace import open_workspace

SECURITY_MD = (
    "# Security\n\n## Reporting a vulnerability\nmail psirt@example.com\n\n"
    "## Scope\nall versions\n\n## Response timelines\n2 days\n\n"
    "## Disclosure policy\n90 days\n"
)


def _commit(repo: Path, files: dict[str, str], message: str, *trailers: str) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    args = ["commit", "-q", "-m", message]
    for trailer in trailers:
        args += ["-m", trailer]
    git(repo, *args)


def _collect(repo: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["collect", "--only", "documents", "--repo", str(repo), "--format", "json"]) == 0
    return [e["statement"]["predicate"] for e in json.loads(capsys.readouterr().out)]


HARDENING_MD = (
    "# Hardening\n\n## Installation\n\n## Security settings\n\n## Maintenance\n\n"
    "## Security incidents\n"
)


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    return git_repo


def test_reviewed_complete_document_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(
        repo, {"SECURITY.md": SECURITY_MD}, "security policy", "Reviewed-by: Bob <bob@example.com>"
    )
    (pred,) = _collect(repo, capsys)
    assert pred["kind"] == "document:vulnerability_disclosure_policy"
    assert pred["requirements"] == ["DM-1", "DM-5"]
    assert pred["result"]["status"] == "pass"
    assert pred["result"]["metrics"] == {
        "present": 1,
        "sections_required": 4,
        "sections_found": 4,
        "reviewed": 1,
        "age_days": pred["result"]["metrics"]["age_days"],
    }
    assert pred["covers"] == ["SECURITY.md"]


def test_self_review_and_missing_section_fail(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(
        repo,
        {"SECURITY.md": "# Security\n\n## How to report\nmail\n"},
        "security policy",
        "Reviewed-by: Ada Lovelace <ADA@example.com>",  # the author herself, other case
    )
    (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "fail"
    summary = pred["result"]["summary"]
    assert (
        "missing section(s): Scope (DM-1), Response timelines (DM-1), Disclosure (DM-1)" in summary
    )
    assert "no independent review record" in summary


def test_pull_request_merge_counts_as_review(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "-b", "topic")
    _commit(repo, {"docs/hardening.md": HARDENING_MD}, "hardening guide")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "topic", "-m", "Merge pull request #7 from acme/topic")
    (pred,) = _collect(repo, capsys)
    assert pred["kind"] == "document:hardening_guide"
    assert pred["result"]["status"] == "pass"


def test_a_merge_that_resolved_a_conflict_in_the_document_is_judged_not_crashed_on(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, {"docs/hardening.md": HARDENING_MD}, "hardening guide")
    git(repo, "checkout", "-q", "-b", "topic")
    _commit(repo, {"docs/hardening.md": HARDENING_MD + "topic\n"}, "topic edit")
    git(repo, "checkout", "-q", "main")
    _commit(repo, {"docs/hardening.md": HARDENING_MD + "main\n"}, "main edit")
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "topic"], capture_output=True)
    (repo / "docs/hardening.md").write_text(HARDENING_MD + "both\n")
    git(repo, "add", "docs/hardening.md")
    git(repo, "commit", "-q", "--no-edit")
    (pred,) = _collect(repo, capsys)
    # The merge made the last change; no pull request is behind it: not an independent review.
    assert pred["kind"] == "document:hardening_guide"
    assert pred["result"]["status"] == "fail"
    assert "no independent review record" in pred["result"]["summary"]


def test_a_symlink_out_of_the_repository_is_refused_and_nothing_appended(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = repo.parent / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "hardening.md").symlink_to(secret)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hardening guide (a symlink)")
    before = len(list(ledger.entries(open_workspace(repo).store())))
    capsys.readouterr()
    assert main(["collect", "--only", "documents", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "docs/hardening.md: a symlink to" in err and "outside the repository" in err
    assert len(list(ledger.entries(open_workspace(repo).store()))) == before


def test_absent_defaults_give_no_evidence_configured_absent_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _collect(repo, capsys) == []
    with open(repo / ".sdl-tracker.toml", "a") as f:
        f.write('\n[collectors.documents.hardening_guide]\npath = "manual/hardening.rst"\n')
    (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "fail"
    assert "manual/hardening.rst not found" in pred["result"]["summary"]


def test_rst_headings_and_new_document(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(repo / ".sdl-tracker.toml", "a") as f:
        f.write(
            '\n[collectors.documents.user_manual]\npath = "doc/manual.rst"\n'
            'sections = ["Installation", "Security"]\nrequirements = ["SG-7"]\n'
        )
    text = "Manual\n======\n\nInstallation\n------------\n\nSecurity notes\n--------------\n"
    _commit(repo, {"doc/manual.rst": text}, "manual", "Acked-by: Bob <bob@example.com>")
    (pred,) = _collect(repo, capsys)
    assert pred["kind"] == "document:user_manual"
    assert pred["requirements"] == ["SG-7"]
    assert pred["result"]["status"] == "pass", pred["result"]["summary"]
    # the CRA's user-information sections are named for that view, and fail nothing here
    assert (
        "for the EU CRA view, missing section(s): Manufacturer and contact (CRA-13-18)"
        in (pred["result"]["summary"])
    )


def test_unchanged_document_is_reaffirmed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"SECURITY.md": SECURITY_MD}, "policy", "Reviewed-by: Bob <bob@example.com>")
    _collect(repo, capsys)
    _commit(repo, {"src.py": "x = 1\n"}, "unrelated change")
    (pred,) = _collect(repo, capsys)
    assert pred["result"]["summary"].startswith("reaffirmed: ")
    assert pred["details"]["reaffirms"] == 1


def test_bad_configuration_is_exit_2_and_nothing_appended(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open(repo / ".sdl-tracker.toml", "a") as f:
        f.write('\n[collectors.documents.hardening_guide]\nsections = "Hardening"\n')
    assert main(["collect", "--only", "documents", "--repo", str(repo)]) == 2
    assert "sections: expected a list of strings" in capsys.readouterr().err
    assert list(ledger.entries(ledger.GitStore(repo))) == []


@pytest.mark.parametrize(
    ("trailers", "mailmap", "reviewed"),
    [
        # the reviewer co-wrote the change: not independent
        (("Co-authored-by: Bob <bob@example.com>", "Reviewed-by: Bob <bob@example.com>"), "", 0),
        # .mailmap says the reviewer's address is the author's own
        (
            ("Reviewed-by: Ada L <ada@home.example>",),
            "Ada Lovelace <ada@example.com> <ada@home.example>\n",
            0,
        ),
        (("Reviewed-by: Bob <bob@example.com>",), "", 1),
    ],
)
def test_review_trail_uses_the_review_collectors_definitions(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    trailers: tuple[str, ...],
    mailmap: str,
    reviewed: int,
) -> None:
    if mailmap:
        _commit(repo, {".mailmap": mailmap}, "mailmap")
    _commit(repo, {"SECURITY.md": SECURITY_MD}, "security policy", "\n".join(trailers))
    (pred,) = _collect(repo, capsys)
    assert pred["result"]["metrics"]["reviewed"] == reviewed


def test_documents_not_found_are_named_with_their_paths(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["collect", "--only", "documents", "--repo", str(repo)]) == 0
    err = capsys.readouterr().err
    assert "note: documents: 22 documents not found in " in err
    assert "SECURITY.md or .github/SECURITY.md or docs/SECURITY.md (DM-1, DM-5)" in err
    assert "docs/patch-policy.md (SUM-5)" in err
    assert "docs/user-information.md (CRA-13-18)" in err


def test_front_matter_fenced_code_and_yaml_comments_are_not_headings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "---\n# Reporting a vulnerability (a YAML comment in front matter)\ntitle: Security\n---\n"
        "Body text\n\n```sh\n# scope: a shell comment in a code block\n```\n\n"
        "#timelines without a space is no heading\n\n## Disclosure\n"
    )
    _commit(repo, {"SECURITY.md": text}, "policy", "Reviewed-by: Bob <bob@example.com>")
    (pred,) = _collect(repo, capsys)
    assert pred["details"]["missing_sections"] == [
        "Reporting a vulnerability",
        "Scope",
        "Response timelines",
    ]
    # the closing `---` of the front matter is not the underline of a setext heading
    assert pred["result"]["metrics"]["sections_found"] == 1


def test_yaml_document_sections_are_its_keys_not_its_comments(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commented = "# security_level: per zone (a comment)\nrequirements:\n  - id: R-1\n"
    _commit(repo, {"security-requirements.yaml": commented}, "reqs", "Acked-by: Bob <b@x.org>")
    (pred,) = _collect(repo, capsys)
    assert pred["details"]["missing_sections"] == ["Capability security levels"]
    keyed = "requirements:\n  - id: R-1\n    zone: field\n    security_level: 2\n"
    _commit(repo, {"security-requirements.yaml": keyed}, "levels", "Acked-by: Bob <b@x.org>")
    (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "pass", pred["result"]["summary"]
    _commit(repo, {"security-requirements.yaml": "a: [\n"}, "broken", "Acked-by: Bob <b@x.org>")
    (pred,) = _collect(repo, capsys)
    assert pred["result"]["status"] == "fail"
    assert "not valid YAML" in pred["result"]["summary"]
