"""A part of an all_of rule declared not applicable on its own (SVV-3's fuzzing for a product
with no parser): justified, shown part by part, and counted only as approved tailoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence_factory import NOW, C, stmt, tailored

from sdl_tracker.conformance import tailoring
from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.model import Conformance, Status
from sdl_tracker.errors import PolicyError
from sdl_tracker.policy import load as policy_mod

NO_PARSER = "the product reads no untrusted input, only a file signed by its vendor"
PARTS = f"""not_applicable:
  SVV-3:
    fuzzing: {NO_PARSER}
    attack_surface_analysis: one local command-line entry point, no network service
    binary_sca: pure Python wheel, no compiled code shipped
"""


def _evaluate(policy_text: str, tmp_path: Path, *kinds: str) -> Conformance:
    policy = tailored(tmp_path, policy_text)
    found = {
        "dependency_audit": stmt(
            "dependency_audit", metrics={"vulnerabilities": 0}, requirements=("SVV-3",)
        ),
        "sast": stmt("sast", metrics={"high": 0}, requirements=("SVV-3",)),
    }
    return evaluate(policy, [found[k] for k in kinds], CommitFacts(commit=C), NOW)


def test_each_part_declared_not_applicable_is_shown_with_its_justification(
    tmp_path: Path,
) -> None:
    r = _evaluate(PARTS, tmp_path, "dependency_audit", "sast").result("SVV-3")
    assert r is not None
    # dynamic_analysis (resource exhaustion) still applies and has no evidence
    assert r.status is Status.PARTIAL, r.reason
    assert r.reason.startswith("dynamic_analysis: no evidence")
    assert f"not applicable: [any of: fuzzing, dast] ({NO_PARSER})" in r.reason
    assert "not applicable: [all of: attack_surface_analysis, threat_model" in r.reason
    assert "(one local command-line entry point" in r.reason
    assert "fuzzing: no evidence" not in r.reason
    assert "[any of: fuzzing, dast] — not applicable" in r.rule
    assert "dynamic_analysis, " not in r.rule and r.rule.endswith("dynamic_analysis")


def test_the_parts_that_apply_decide(tmp_path: Path) -> None:
    text = PARTS + "    dynamic_analysis: no long-running process, each run exits\n"
    r = _evaluate(text, tmp_path, "dependency_audit", "sast").result("SVV-3")
    assert r is not None
    assert r.status is Status.SATISFIED, r.reason
    r = _evaluate(text, tmp_path, "sast").result("SVV-3")
    assert r is not None and r.status is Status.PARTIAL
    assert r.reason.startswith("dependency_audit: no evidence")


def test_part_tailoring_counts_only_when_approved(tmp_path: Path) -> None:
    """The gate undoes an unapproved tailoring: the part applies again, and the reason says
    which parts the project declared not applicable."""
    policy = tailored(tmp_path, PARTS)
    shipped = policy_mod.load("iec62443-4-1")
    effective, reverted = tailoring.untailored(policy, shipped)
    assert "SVV-3" in reverted
    assert effective.requirement("SVV-3").not_applicable_parts == ()
    conf = evaluate(effective, [], CommitFacts(commit=C), NOW)
    annotated = tailoring.annotate(
        conf, tailoring.Tailoring((), why="no approval", reverted=reverted), policy
    )
    r = annotated.result("SVV-3")
    assert r is not None and "fuzzing: no evidence" in r.reason
    assert "declares SVV-3 partly not applicable: attack_surface_analysis" in r.reason
    assert f"fuzzing ({NO_PARSER})" in r.reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "not_applicable:\n  SVV-3:\n    fuzing: no parser\n",
            "policy.yaml:4: not_applicable.SVV-3.fuzing: unknown evidence kind 'fuzing'; did "
            "you mean fuzzing?",
        ),
        (
            "not_applicable:\n  SVV-3:\n    pentest_report: no parser\n",
            "policy.yaml:4: not_applicable.SVV-3.pentest_report: the rule of SVV-3 has no "
            "all_of part naming pentest_report",
        ),
        (
            "not_applicable:\n  SVV-3:\n    fuzzing: ' '\n",
            "policy.yaml:4: not_applicable.SVV-3.fuzzing: missing justification",
        ),
        (
            "not_applicable:\n  SVV-3:\n    fuzzing: no parser\n    dast: no service\n",
            "not_applicable.SVV-3.dast: the same part is already declared not applicable as "
            "fuzzing",
        ),
        (
            "not_applicable:\n  SVV-4:\n    pentest_report: none\n",
            "the rule of SVV-4 has no all_of part naming pentest_report",
        ),
        (
            "not_applicable:\n  SVV-3:\n"
            + "".join(
                f"    {k}: not here\n"
                for k in (
                    "dependency_audit",
                    "sast",
                    "fuzzing",
                    "attack_surface_analysis",
                    "binary_sca",
                    "dynamic_analysis",
                )
            ),
            "every part of its rule is declared not applicable; declare SVV-3 itself not "
            "applicable",
        ),
    ],
)
def test_part_mistakes_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as e:
        tailored(tmp_path, text)
    assert message in str(e.value)
