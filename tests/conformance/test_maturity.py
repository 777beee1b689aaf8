from __future__ import annotations

import json
from pathlib import Path

import pytest
from evidence_factory import NOW, stmt
from helpers import git

from sdl_tracker.cli.main import main
from sdl_tracker.conformance import maturity
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.model import RequirementResult, Status
from sdl_tracker.conformance.verdicts import ReleaseVerdict
from sdl_tracker.models import ResultStatus, Statement
from sdl_tracker.policy import load as policy_mod

POLICY = policy_mod.load("iec62443-4-1")
SG = [r.id for r in POLICY.requirements if r.practice == "SG"]


def results(status: Status = Status.SATISFIED) -> list[RequirementResult]:
    return [
        RequirementResult(r.id, r.title, r.practice, status, "", "") for r in POLICY.requirements
    ]


def release(name: str, status: Status = Status.SATISFIED, seq: int = 1) -> ReleaseVerdict:
    return ReleaseVerdict(name, "c" * 40, seq, True, dict.fromkeys(SG, status))


def inputs(**kw: object) -> maturity.Inputs:
    base: dict[str, object] = {
        "process": {r.id: (True, "ok") for r in POLICY.requirements},
        "roles": (True, "ok"),
        "training": (True, "ok"),
        "touched": {"SG": 3},
        "releases": (release("v1"), release("v2"), release("v3")),
        "improvement": {"SG": 2},
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
            "ML2: no - no current process document for SG-3 (x)",
        ),
        ({"training": (False, "training_record: no evidence")}, 1, "training not attested"),
        ({"releases": (release("v2"), release("v3"))}, 2, "only 2 of the last 3 releases"),
        (
            {"releases": (release("v1", Status.WAIVED), release("v2"), release("v3"))},
            2,
            "SG-1 was waived at release v1",
        ),
        ({"improvement": {"SG": 1}}, 3, "recorded in 1 of the last 3 releases (need 2)"),
        ({}, 4, "ML4: yes"),
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
        status=ResultStatus.PASS if passed else ResultStatus.FAIL,
        requirements=("SM-11", "SM-12"),
        details={
            "release": release,
            "passed": passed,
            "statuses": dict.fromkeys(SG, "satisfied"),
        },
    )


def test_ml4_from_improvement_metrics_across_release_windows() -> None:
    docs = [
        stmt(k)
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
    metrics = stmt("metrics_report", requirements=("SG-7", "DM-6"))
    ledger = [*docs, gate("v1"), metrics, gate("v2"), gate("v3")]
    # SM-4 wants the training record signed: say its signature verified (entry 9).
    signed = frozenset({9})
    conf = evaluate(POLICY, ledger, CommitFacts("c" * 40), NOW, signed=signed)
    sg = next(p for p in conf.practices if p.practice == "SG")
    assert sg.maturity == 3, sg.levels
    assert "recorded in 1 of the last 3 releases" in sg.levels[3]
    conf = evaluate(
        POLICY, [*ledger, metrics], CommitFacts("c" * 40), NOW, "v4", gating=True, signed=signed
    )
    sg = next(p for p in conf.practices if p.practice == "SG")
    assert sg.maturity == 4, sg.levels
    assert next(p for p in conf.practices if p.practice == "SVV").maturity == 0


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _gate(root: Path, tag: str, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    git(root, "commit", "-q", "--allow-empty", "-m", f"release {tag}")
    git(root, "tag", tag)
    code, out, err = _run(["gate", "--release", tag, "--format", "json", "-C", str(root)], capsys)
    assert code == 1, err  # most practices have no evidence in this repository
    data = json.loads(out)
    return {p["practice"]: p["maturity"] for p in data["conformance"]["practices"]}


def test_a_repository_walks_from_ml1_to_ml3_across_three_releases(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_repo
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
        (root / "docs" / name).write_text(f"# {kind}\n")
    config = root / ".sdl-tracker.toml"
    before = config.read_text() if config.exists() else ""
    config.write_text(
        before.replace('# policy = "sdl-policy.yaml"', 'policy = "sdl-policy.yaml"')
        + '\n[collectors.documents.user_manual]\npath = "docs/manual.md"\n'
        + '\n[collectors.review]\ndocumentation_paths = ["docs/**"]\n'
    )
    # This walk records training unsigned: the project accepts that for SM-4 (the default
    # policy wants it signed).
    (root / "sdl-policy.yaml").write_text(
        "extends: iec62443-4-1\nprovenance:\n  requirements: {SM-4: [attested, signed]}\n"
    )
    git(root, "add", "-A")
    git(
        root, "commit", "-q", "-m", "user documentation", "-m", "Reviewed-by: Grace <g@example.com>"
    )
    # The guides are committed documents: the documents collector reads them (verified).
    assert _run(["collect", "--only", "documents", "-C", str(root)], capsys)[0] == 0
    # ... and their change was reviewed by someone other than its author (SG-7).
    assert _run(["collect", "--only", "review", "-C", str(root)], capsys)[0] == 0

    levels = _gate(root, "v1.0", capsys)
    assert levels["SG"] == 1  # every SG requirement met, but no process, roles or training record
    assert levels["SVV"] == 0

    for kind, name in (  # a person's statements: attested through `record`
        ("process_doc", "sdl-process.md"),
        ("document:roles_responsibilities", "roles.md"),
        ("training_record", "training-2026.csv"),
    ):
        (tmp_path / name).write_text(f"{kind}\n")
        assert _run(["record", kind, str(tmp_path / name), "-C", str(root)], capsys)[0] == 0
    assert _gate(root, "v1.1", capsys)["SG"] == 2  # two releases of gate verdicts so far

    assert _gate(root, "v1.2", capsys)["SG"] == 3

    code, out, _ = _run(["status", "--format", "json", "-C", str(root)], capsys)
    sg = next(p for p in json.loads(out)["practices"] if p["practice"] == "SG")
    assert code == 0 and sg["maturity"] == 3
    assert sg["levels"][2].startswith("ML3: yes - every applicable requirement met at releases")
