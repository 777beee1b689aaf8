from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from evidence_factory import NOW, C, stmt
from helpers import git

from sdl_tracker.cli.main import main
from sdl_tracker.collectors import COLLECTORS, support_period
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.model import Status
from sdl_tracker.errors import InputError
from sdl_tracker.formats import supportpolicy
from sdl_tracker.models import ResultStatus
from sdl_tracker.policy import load as policy_mod

TODAY = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
GOOD = """\
---
# Machine-readable part, read by sdl-tracker
support_policy: 1
product: examplelib
support_period:
  justification: >-
    Long-lived plant software: the default five years apply.
updates_kept_available_years: 10
release_lines:
  - line: "2.x"
    versions: ">=2.0,<3"
    first_release: 2026-06-15
    end_of_support: 2031-06-15
  - line: "1.x"
    versions: ">=1.0,<2"
    first_release: 2024-02-29
    end_of_support: 2029-02-28
---
# Support policy

| Release line | Security updates until |
|---|---|
| 2.x | 2031-06-15 |
"""


def repo_with(root: Path, text: str | None, *tags: str) -> Path:
    if text is not None:
        (root / "docs").mkdir(exist_ok=True)
        (root / "docs" / "support-policy.md").write_text(text, encoding="utf-8")
    (root / "README.md").write_text("x\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "policy")
    for tag in tags:
        git(root, "tag", tag)
    return root


def collect(root: Path, config: dict[str, str] | None = None) -> list[Evidence]:
    head = git(root, "rev-parse", "HEAD")
    ctx = Context(root=root, commit=head, config=config or {}, now=TODAY)
    return list(support_period.collect(ctx))


def test_registered() -> None:
    assert COLLECTORS["support-period"] is support_period


def test_every_release_in_a_line_of_five_calendar_years_passes(git_repo: Path) -> None:
    repo_with(git_repo, GOOD, "v1.0.0", "v1.4.1", "v2.1.0")
    (ev,) = collect(git_repo)
    assert ev.kind == "support_period" and ev.result.status is ResultStatus.PASS, ev.result.summary
    assert ev.result.metrics == {
        "lines": 2,
        "releases": 3,
        "releases_without_end": 0,
        "short_unjustified": 0,
    }
    # 2024-02-29 + 5 calendar years is 2029-02-28: not short (days / 365.25 would say so)
    assert [name for name, _ in ev.artifacts] == ["support-policy.md", "support-period.json"]
    assert ev.covers == ("docs/support-policy.md",)


def test_a_release_without_an_end_date_and_a_short_unjustified_line_fail(git_repo: Path) -> None:
    text = GOOD.replace("    end_of_support: 2031-06-15\n", "    end_of_support: 2030-06-14\n")
    text = text.replace(
        "  justification: >-\n    Long-lived plant software: the default five years apply.\n", ""
    )
    text = text.replace("    end_of_support: 2029-02-28\n", "")
    repo_with(git_repo, text, "v0.9.0", "v1.0.0", "v2.0.0", "nightly")
    (ev,) = collect(git_repo)
    assert ev.result.status is ResultStatus.FAIL
    assert ev.result.metrics["releases_without_end"] == 2  # v0.9.0 in no line, v1.0.0 no date
    assert ev.result.metrics["short_unjustified"] == 1
    assert "2 release(s) without an end-of-support date: v0.9.0, v1.0.0" in ev.result.summary
    flags = ev.details["flags"]
    assert (
        "2.x: ends 2030-06-14, before 2031-06-15 (five years after its first release), "
        "and no justification is given" in flags
    )
    assert "1.x: no end-of-support date" in flags


def test_a_justified_shorter_period_passes(git_repo: Path) -> None:
    text = GOOD.replace(
        "    end_of_support: 2031-06-15\n",
        "    end_of_support: 2029-06-15\n    justification: expected use is three years\n",
    ).replace(
        "  justification: >-\n    Long-lived plant software: the default five years apply.\n", ""
    )
    repo_with(git_repo, text, "v2.0.0")
    (ev,) = collect(git_repo)
    assert ev.result.status is ResultStatus.PASS, ev.result.summary


def test_no_front_matter_is_incomplete_and_no_document_records_nothing(git_repo: Path) -> None:
    repo_with(git_repo, None)
    assert collect(git_repo) == []
    (ev,) = collect(git_repo, {"path": "docs/support-policy.md"})
    assert ev.result.status is ResultStatus.INCOMPLETE and "does not exist" in ev.result.summary
    repo_with(git_repo, "# Support policy\n\nFive years.\n")
    (ev,) = collect(git_repo)
    assert ev.result.status is ResultStatus.INCOMPLETE
    assert "no YAML front matter" in ev.result.summary


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("---\nrelease_lines: [\n---\n", "docs/support-policy.md: line 3: not valid YAML"),
        ("---\nrelease_lines: []\n", "front matter opened by '---' is never closed"),
        ("---\nrelease_lines: []\n---\n", "release_lines: expected a list"),
        (
            "---\nrelease_lines:\n  - {versions: '>=1', first_release: 2024-13-01}\n---\n",
            "line 3: not valid YAML ('2024-13-01' is not a valid timestamp (month must be in 1..",
        ),
        (
            "---\nrelease_lines:\n  - {versions: '>=1', first_release: soon}\n---\n",
            "release_lines[0].first_release: expected a date YYYY-MM-DD",
        ),
        (
            "---\nrelease_lines:\n  - {versions: 'one', first_release: 2024-01-01}\n---\n",
            "release_lines[0].versions: expected a version specifier",
        ),
        ("---\nrelease_line: []\n---\n", "unknown key 'release_line'"),
    ],
)
def test_bad_front_matter_names_file_and_place(git_repo: Path, text: str, words: str) -> None:
    repo_with(git_repo, text)
    with pytest.raises(InputError) as caught:
        collect(git_repo)
    assert words in str(caught.value)


def test_a_path_leading_out_of_the_repository_is_refused(git_repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.md"
    secret.write_text(GOOD)
    (git_repo / "docs").mkdir()
    (git_repo / "docs" / "support-policy.md").symlink_to(secret)
    with pytest.raises(InputError, match="leads out of the repository"):
        collect(git_repo)
    with pytest.raises(InputError, match="leads out of the repository"):
        collect(git_repo, {"path": "../outside.md"})


def test_collect_command_records_it_and_exits_2_on_bad_input(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "-C", str(git_repo)]) == 0
    repo_with(git_repo, GOOD, "v2.0.0")
    assert main(["collect", "--only", "support-period", "-C", str(git_repo)]) == 0
    repo_with(git_repo, "---\nrelease_lines: {\n---\n")
    capsys.readouterr()
    assert main(["collect", "--only", "support-period", "-C", str(git_repo)]) == 2
    assert "docs/support-policy.md: line" in capsys.readouterr().err


def test_plus_years_maps_29_february() -> None:
    assert supportpolicy.plus_years(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert supportpolicy.plus_years(date(2026, 6, 15), 5) == date(2031, 6, 15)


@pytest.mark.parametrize(
    ("metrics", "status"),
    [
        ({"releases_without_end": 0, "short_unjustified": 0}, Status.SATISFIED),
        ({"releases_without_end": 1, "short_unjustified": 0}, Status.FAILING),
        ({"releases_without_end": 0, "short_unjustified": 1}, Status.FAILING),
    ],
)
def test_cra_13_8_follows_the_flags(metrics: dict[str, int], status: Status) -> None:
    evidence = [
        stmt("document:support_policy", now=NOW),
        stmt("support_period", metrics=metrics, now=NOW, covers=("docs/support-policy.md",)),
    ]
    facts = CommitFacts(commit=C, ancestors=frozenset(), changed={})
    result = evaluate(policy_mod.load("cra-2024-2847"), evidence, facts, NOW).result("CRA-13-8")
    assert result.status is status, result.reason
