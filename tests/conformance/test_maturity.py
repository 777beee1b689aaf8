from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from evidence_factory import NOW, stmt
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker.cli.main import main
from sdl_tracker.conformance import maturity
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.model import RequirementResult, Status
from sdl_tracker.conformance.verdicts import ReleaseVerdict
from sdl_tracker.models import ResultStatus, Statement
from sdl_tracker.policy import catalog
from sdl_tracker.policy import load as policy_mod

POLICY = policy_mod.load("iec62443-4-1")
SG = [r.id for r in POLICY.requirements if r.practice == "SG"]


def results(status: Status = Status.SATISFIED) -> list[RequirementResult]:
    return [
        RequirementResult(r.id, r.title, r.practice, status, "", "") for r in POLICY.requirements
    ]


def release(
    name: str, status: Status = Status.SATISFIED, seq: int = 0, passed: bool = True
) -> ReleaseVerdict:
    seq = seq or 10 * int(name[1:])
    statuses = dict.fromkeys(SG, status)
    return ReleaseVerdict(name, name * 20, seq, passed, statuses, at=NOW, practices={"SG": passed})


def sast_on(name: str, high: int = 0) -> Record:
    """Static analysis collected on release `name`'s commit, just before its gate."""
    metrics = {"high": high, "medium": 1, "low": 2}
    st = stmt("sast", commit=name * 20, metrics=metrics)
    return Record(seq=10 * int(name[1:]) - 1, hash="", statement=st)


#: v1, v2, v3 committed 90, 60 and 30 days before NOW.
DATES = {f"v{n}" * 20: NOW - timedelta(days=120 - 30 * n) for n in range(1, 10)}


def inputs(**kw: object) -> maturity.Inputs:
    base: dict[str, object] = {
        "process": {r.id: (True, "ok") for r in POLICY.requirements},
        "roles": (True, "ok"),
        "training": (True, "ok"),
        "touched": {"SG": 3},
        "releases": (release("v1"), release("v2"), release("v3")),
        "release_dates": DATES,
        "records": (sast_on("v1"), sast_on("v2"), sast_on("v3")),
        "actions": ((40, "retrospective: findings rose at v3, the linter now blocks them"),),
    }
    base.update(kw)
    return maturity.Inputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "level", "words"),
    [
        ({"touched": {}}, 0, "ML1: no - no evidence recorded"),
        (
            {
                "process": {
                    **{r.id: (True, "ok") for r in POLICY.requirements},
                    "SG-3": (False, "x"),
                }
            },
            1,
            "ML2: no - no procedure for SG-3 (x)",
        ),
        ({"training": (False, "training_record: no evidence")}, 1, "training not current"),
        ({"releases": (release("v2"), release("v3"))}, 2, "2 distinct releases at least 30"),
        (  # a second tag on the same commit is no new release
            {
                "releases": (
                    release("v2"),
                    release("v3"),
                    replace(release("v3"), release="v3b", seq=9),
                )
            },
            2,
            "2 distinct releases",
        ),
        (  # a hotfix a day after v2 is skipped, not counted
            {
                "releases": (release("v2"), release("v4"), release("v3")),
                "release_dates": {**DATES, "v4" * 20: DATES["v2" * 20] + timedelta(days=1)},
            },
            2,
            "2 distinct releases",
        ),
        (
            {"releases": (release("v1"), release("v2", passed=False), release("v3"))},
            2,
            "the gate failed for SG at release v2",
        ),
        (  # the whole gate failed at v2, but not for this practice: v2 counts for SG
            {"releases": (release("v1"), replace(release("v2"), passed=False), release("v3"))},
            4,
            "ML3: yes - every applicable requirement met at releases v1, v2, v3",
        ),
        (  # an older verdict without per-practice results cannot show SG passed
            {"releases": (release("v1"), replace(release("v2"), practices=None), release("v3"))},
            2,
            "release v2: its gate verdict (entry 20) records no per-practice result",
        ),
        ({"release_dates": {}}, 2, "its commit v3v3v3v3v3 is not in this repository"),
        (
            {"release_dates": {**DATES, "v3" * 20: NOW + timedelta(days=1)}},
            2,
            "after its gate ran",
        ),
        (
            {"releases": (release("v1", Status.WAIVED), release("v2"), release("v3"))},
            2,
            "SG-1 was waived at release v1",
        ),
        ({"records": (sast_on("v2"), sast_on("v3"))}, 3, "no metric derived at all 3 releases"),
        ({"actions": ((40, "we talked about quality"),)}, 3, "no improvement action"),
        ({"actions": ((5, "findings"),)}, 3, "recorded since release v1"),  # before the releases
        ({}, 4, "trend of findings over 3 releases (v1: findings 3; v2: findings 3"),
    ],
)
def test_levels(changes: dict[str, object], level: int, words: str) -> None:
    (sg,) = [p for p in maturity.assess(POLICY, results(), inputs(**changes)) if p.practice == "SG"]
    assert sg.maturity == level
    assert any(words in line for line in sg.levels), sg.levels
    assert len(sg.levels) == 4


def test_not_applicable_requirements_need_no_process_document() -> None:
    gaps = {r.id: (r.id != "SG-4", "none") for r in POLICY.requirements}
    rs = [
        RequirementResult(
            r.id,
            r.title,
            r.practice,
            Status.NOT_APPLICABLE if r.id == "SG-4" else Status.SATISFIED,
            "",
            "",
        )
        for r in POLICY.requirements
    ]
    (sg,) = [p for p in maturity.assess(POLICY, rs, inputs(process=gaps)) if p.practice == "SG"]
    assert sg.maturity == 4


def gate(release: str, passed: bool = True) -> Statement:
    return stmt(
        "release_gate_record",
        commit=release * 20,
        status=ResultStatus.PASS if passed else ResultStatus.FAIL,
        requirements=("SM-11", "SM-12"),
        details={
            "release": release,
            "passed": passed,
            "statuses": dict.fromkeys(SG, "satisfied"),
            "practices": {"SG": passed},
        },
    )


def test_a_metrics_report_alone_never_gives_ml4() -> None:
    docs = [
        stmt(k, details={"procedures": SG} if k == "process_doc" else None)
        for k in (
            "document:defense_in_depth_guide",
            "document:environment_requirements",
            "document:hardening_guide",
            "document:disposal_guide",
            "document:operation_guide",
            "document:account_management_guide",
            "document:user_manual",
            "process_doc",
            "training_record",
            "document:roles_responsibilities",
            "retrospective_record",
        )
    ]
    # SG-7: the user documentation changed in the range was reviewed by someone else.
    docs.append(
        stmt("review_record", metrics={"documentation_commits": 1, "documentation_reviewed": 1})
    )
    metrics = stmt("metrics_report", requirements=("SG-7", "DM-6"), summary="findings down")
    ledger = [*docs, gate("v1"), metrics, gate("v2"), metrics, gate("v3"), metrics]
    facts = CommitFacts("v3" * 20, dates=DATES)
    # SM-4 wants the training record signed: say its signature verified (entry 9).
    signed = frozenset({9})
    sg = next(
        p
        for p in evaluate(POLICY, ledger, facts, NOW, signed=signed).practices
        if p.practice == "SG"
    )
    assert sg.maturity == 3, sg.levels
    assert "no metric derived at all 3 releases" in sg.levels[3]
    sast = [
        stmt("sast", commit=f"v{n}" * 20, metrics={"high": 0, "medium": 4 - n, "low": 0})
        for n in (1, 2, 3)
    ]
    retro = stmt("retrospective_record", summary="findings: medium ones fall since the linter rule")
    ledger = [*docs, sast[0], gate("v1"), sast[1], gate("v2"), sast[2], gate("v3"), metrics, retro]
    sg = next(
        p
        for p in evaluate(POLICY, ledger, facts, NOW, signed=signed).practices
        if p.practice == "SG"
    )
    assert sg.maturity == 4, sg.levels
    assert "findings 3; v2: findings 2; v3: findings 1" in sg.levels[3]
    assert "improvement action entry 20 names findings" in sg.levels[3]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


PROCESS = "# Our process\n" + "".join(
    f"\n## {rid}: how we write and review this guide\n\nText.\n" for rid in SG
)


def _dated(when: datetime) -> dict[str, str]:
    return {"GIT_COMMITTER_DATE": when.isoformat(), "GIT_AUTHOR_DATE": when.isoformat()}


def _gate(
    root: Path,
    tag: str,
    capsys: pytest.CaptureFixture[str],
    when: datetime | None = None,
    *,
    passes: bool = True,
) -> dict[str, int]:
    if when is not None:
        git(root, "commit", "-q", "--allow-empty", "-m", f"release {tag}", env=_dated(when))
    git(root, "tag", tag)
    assert _run(["collect", "--only", "sast", "-C", str(root)], capsys)[0] == 0
    code, out, err = _run(["gate", "--release", tag, "--format", "json", "-C", str(root)], capsys)
    assert code == (0 if passes else 1), err
    data = json.loads(out)
    return {p["practice"]: p["maturity"] for p in data["conformance"]["practices"]}


def _guide(kind: str) -> str:
    """A guide with every heading the catalogue requires of its kind."""
    doc = catalog.load().documents[kind]
    return f"# {kind}\n" + "".join(f"\n## {s.heading}\n\nText.\n" for s in doc.sections)


def _review_guides(
    root: Path, tag: str, capsys: pytest.CaptureFixture[str], when: datetime
) -> None:
    """Per-release guides are reviewed for each release: a reviewed change to each."""
    for path in sorted((root / "docs").glob("*.md")):
        path.write_text(path.read_text() + f"\nReviewed for {tag}.\n")
    git(root, "add", "-A")
    git(
        root,
        "commit",
        "-q",
        "-m",
        f"review guides for {tag}",
        "-m",
        "Reviewed-by: G <g@e.org>",
        env=_dated(when),
    )
    assert _run(["collect", "--only", "documents", "-C", str(root)], capsys)[0] == 0
    # ... and the review of that change (SG-7) is collected again
    assert _run(["collect", "--only", "review", "-C", str(root)], capsys)[0] == 0


def test_ml3_counts_distinct_release_commits_spread_over_time_with_passing_gates(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_repo
    start = datetime.now(timezone.utc) - timedelta(days=100)
    assert _run(["init", "-C", str(root)], capsys)[0] == 0
    guides = {
        "defense-in-depth.md": "document:defense_in_depth_guide",
        "environment.md": "document:environment_requirements",
        "hardening.md": "document:hardening_guide",
        "disposal.md": "document:disposal_guide",
        "secure-operation.md": "document:operation_guide",
        "account-management.md": "document:account_management_guide",
        "manual.md": "document:user_manual",
    }
    (root / "docs").mkdir(exist_ok=True)
    for name, kind in guides.items():
        (root / "docs" / name).write_text(_guide(kind))
    (root / "app.py").write_text("print('hello')\n")
    (root / "docs" / "sdl-process.md").write_text(PROCESS)
    config = root / ".sdl-tracker.toml"
    before = config.read_text() if config.exists() else ""
    config.write_text(
        before.replace('# policy = "sdl-policy.yaml"', 'policy = "sdl-policy.yaml"')
        + '\n[collectors.documents.user_manual]\npath = "docs/manual.md"\n'
        + '\n[collectors.review]\ndocumentation_paths = ["docs/**"]\n'
    )
    # Only the security guidelines are in scope here, so that the gate can pass; training is
    # recorded unsigned, which this project accepts for SM-4.
    others = [r.id for r in POLICY.requirements if r.practice != "SG"]
    (root / "sdl-policy.yaml").write_text(
        "extends: iec62443-4-1\nprovenance:\n  requirements: {SM-4: [attested, signed]}\n"
        "not_applicable:\n" + "".join(f"  {rid}: out of this test's scope\n" for rid in others)
    )
    git(root, "add", "-A")
    git(
        root,
        "commit",
        "-q",
        "-m",
        "user documentation",
        "-m",
        "Reviewed-by: Grace <g@example.com>",
        env=_dated(start),
    )
    # The product-security-lead approves the committed policy: its tailoring counts.
    keys = ssh_keys(tmp_path / "keys")
    commit_roster(root, roster_text(keys))
    approve = ["approve", "--policy", "--key", str(keys["grace"]), "-C", str(root)]
    assert _run(approve, capsys)[0] == 0
    assert _run(["collect", "--only", "documents", "-C", str(root)], capsys)[0] == 0
    # ... and their change was reviewed by someone other than its author (SG-7).
    assert _run(["collect", "--only", "review", "-C", str(root)], capsys)[0] == 0
    for kind, name in (  # a person's statements: attested through `record`
        ("document:roles_responsibilities", "roles.md"),
        ("training_record", "training-2026.csv"),
    ):
        (tmp_path / name).write_text(f"{kind}\n")
        assert _run(["record", kind, str(tmp_path / name), "-C", str(root)], capsys)[0] == 0

    assert _gate(root, "v1.0", capsys, start + timedelta(days=10))["SG"] == 2
    # a second tag on the same commit is no new release
    assert _gate(root, "v1.0-final", capsys)["SG"] == 2
    _review_guides(root, "v1.1", capsys, start + timedelta(days=40))
    assert _gate(root, "v1.1", capsys, start + timedelta(days=41))["SG"] == 2
    # a hotfix two days later: a release, but too close to v1.1 for both to count
    _review_guides(root, "v1.2", capsys, start + timedelta(days=42))
    assert _gate(root, "v1.2", capsys, start + timedelta(days=43))["SG"] == 2
    _review_guides(root, "v1.3", capsys, start + timedelta(days=80))
    assert _gate(root, "v1.3", capsys, start + timedelta(days=81))["SG"] == 3
    code, out, _ = _run(["status", "--format", "json", "-C", str(root)], capsys)
    sg = next(p for p in json.loads(out)["practices"] if p["practice"] == "SG")
    assert code == 0 and sg["maturity"] == 3
    assert sg["levels"][2].startswith("ML3: yes - every applicable requirement met at releases")
    assert "v1.0-final, v1.2, v1.3" in sg["levels"][2]
    # ML4: the tool derived findings at each of those releases; an action must name the metric
    assert "findings 0" in sg["levels"][3] and "no improvement action" in sg["levels"][3]
    (tmp_path / "retro.md").write_text("retrospective\n")
    summary = "retrospective: findings stay at 0 since bandit runs in pre-commit"
    argv = ["record", "retrospective_record", str(tmp_path / "retro.md"), "--summary", summary]
    assert _run([*argv, "-C", str(root)], capsys)[0] == 0
    code, out, _ = _run(["status", "--format", "json", "-C", str(root)], capsys)
    sg = next(p for p in json.loads(out)["practices"] if p["practice"] == "SG")
    assert sg["maturity"] == 4, sg["levels"]
    # the guides were not reviewed for v1.4: its gate fails, and a failing gate ends the count
    assert _gate(root, "v1.4", capsys, start + timedelta(days=95), passes=False)["SG"] == 2


def test_ml2_needs_a_procedure_naming_each_requirement_and_trained_role_holders(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_repo
    assert _run(["init", "-C", str(root)], capsys)[0] == 0
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "hardening.md").write_text(_guide("document:hardening_guide"))
    (root / "docs" / "roles.md").write_text("# Roles\n\n## Roles\n\nAda: developer.\n")
    (root / "docs" / "sdl-process.md").write_text("# Process\n\n## SG-3 Hardening guide\n")
    roster = (
        "people:\n  - name: Ada Lovelace\n    emails: [ada@example.com]\n"
        "    roles: [developer]\n    training:\n"
        "      - {course: Secure coding, date: 2020-01-15, expires: 2021-01-15}\n"
    )
    (root / "sdl-roster.yaml").write_text(roster)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "process", "-m", "Reviewed-by: Grace <g@example.com>")
    assert _run(["collect", "--only", "documents", "-C", str(root)], capsys)[0] == 0
    code, out, _ = _run(["status", "--format", "json", "-C", str(root)], capsys)
    sg = next(p for p in json.loads(out)["practices"] if p["practice"] == "SG")
    ml2 = sg["levels"][1]
    assert ml2.startswith("ML2: no - no procedure for SG-1 ("), ml2
    assert "no section naming SG-1 (a heading such as `## SG-1 …`)" in ml2
    assert "SG-3 (" not in ml2  # its procedure is there
    assert "no current training in sdl-roster.yaml at " in ml2
    assert ml2.endswith(" for Ada Lovelace (developer))")
    code, _, err = _run(["explain", "SG-3", "-C", str(root)], capsys)
    assert code == 0
    assert "maturity evidence for SG-3:" in err
    assert "  ML2 procedure: yes - process_doc (entry " in err
    assert "has a section naming SG-3" in err
    assert "  ML3 releases: none counted yet" in err
    code, _, err = _run(["explain", "SG-1", "-C", str(root)], capsys)
    assert "  ML2 procedure: no - " in err and "no section naming SG-1" in err


def test_the_gate_verdict_records_each_practice_and_reads_back() -> None:
    from sdl_tracker.conformance import verdicts
    from sdl_tracker.ledger import chain

    facts = CommitFacts(commit="c" * 40, ancestors=frozenset(), changed={})
    conf = evaluate(POLICY, [], facts, NOW, release="v1")
    sg_met = tuple(
        replace(r, status=Status.SATISFIED) if r.practice == "SG" else r for r in conf.requirements
    )
    st, _ = verdicts.statement(
        replace(conf, requirements=sg_met), passed=False, ratchet=(), who="ci", now=NOW
    )
    assert st.predicate.details["practices"] == {
        p.id: p.id == "SG" for p in POLICY.catalog.practices
    }
    (entry,) = chain.seal(None, [st])  # through the ledger's bytes and back
    read = verdicts.read(Record(seq=entry.seq, hash=entry.hash, statement=entry.statement()))
    assert read is not None and read.practices is not None
    assert read.practices["SG"] is True and read.practices["SM"] is False and not read.passed
    # an older verdict, without the key, reads as "no per-practice result"
    old = replace(st, predicate=replace(st.predicate, details={**st.predicate.details}))
    del old.predicate.details["practices"]  # type: ignore[attr-defined]
    assert verdicts.read(Record(seq=1, hash="", statement=old)).practices is None  # type: ignore[union-attr]
