"""Tests written for mutants of the gate decision (conformance/verdicts.py, the status
combination in evaluate.py) that the other tests let survive (benchmarks/mutation.sh; the
survivors and the reasons for the rest are in docs/testing.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from evidence_factory import NOW, B, C, approve_all, only, stmt, tailored

from sdl_tracker import __version__
from sdl_tracker.conformance import evaluate, verdicts
from sdl_tracker.conformance import waivers as waivers_mod
from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.judge import Outcome
from sdl_tracker.conformance.model import (
    Conformance,
    EvidenceRef,
    PracticeResult,
    RequirementResult,
    Status,
    Waiver,
)
from sdl_tracker.models import Artifact, Provenance, ResultStatus, Statement, Tool
from sdl_tracker.policy import load as policy_load
from sdl_tracker.policy.model import AllOf, AnyOf, Leaf, Policy

S = Status


def verdict(release: str | None, passed: bool = True, **details: object) -> Statement:
    return stmt(
        "release_gate_record",
        commit=B,
        status=ResultStatus.PASS if passed else ResultStatus.FAIL,
        requirements=("SM-11", "SM-12"),
        details={
            "release": release,
            "passed": passed,
            "statuses": {"SM-4": "satisfied", "SVV-3": "waived"},
            **details,
        },
    )


def test_a_well_formed_verdict_is_read_back_whole() -> None:
    (r,) = records([verdict("v1.0", catalog="cra:2024")])
    v = verdicts.read(r)
    assert v == verdicts.ReleaseVerdict(
        release="v1.0",
        commit=B,
        seq=1,
        passed=True,
        statuses={"SM-4": S.SATISFIED, "SVV-3": S.WAIVED},
        catalog="cra:2024",
        at=r.statement.predicate.recorded_at,
    )
    (r,) = records([verdict(None, passed=False)])
    v = verdicts.read(r)
    assert v is not None and v.release is None and not v.passed
    assert v.catalog == verdicts.DEFAULT_CATALOG


@pytest.mark.parametrize(
    "changes",
    [
        {"statuses": ["satisfied"]},
        {"statuses": None},
        {"statuses": {"SM-4": "fine"}},
        {"release": 1},
        {"catalog": None},
        {"catalog": 2018},
    ],
)
def test_a_malformed_verdict_is_no_verdict(changes: dict[str, object]) -> None:
    st = verdict("v1.0")
    details = {**st.predicate.details, **changes}
    (r,) = records([replace(st, predicate=replace(st.predicate, details=details))])
    assert verdicts.read(r) is None


def test_only_the_gates_own_entries_are_verdicts() -> None:
    st = verdict("v1.0")
    other = replace(st, predicate=replace(st.predicate, collector="record"))
    kind = replace(st, predicate=replace(st.predicate, kind="review_record"))
    assert [verdicts.read(r) for r in records([other, kind])] == [None, None]


@pytest.mark.parametrize("passed", ["true", 1, None])
def test_passed_means_the_boolean_true(passed: object) -> None:
    st = verdict("v1.0")
    details = {**st.predicate.details, "passed": passed}
    (r,) = records([replace(st, predicate=replace(st.predicate, details=details))])
    v = verdicts.read(r)
    assert v is not None and v.passed is False


def test_the_newest_run_of_a_release_moves_it_last_and_is_the_ratchet_baseline() -> None:
    recs = records(
        [
            verdict("v1.0", passed=False),
            verdict("v1.1"),
            verdict("v1.0"),  # v1.0 judged again after v1.1: now the newest release
            verdict(None),  # no --release: never a release verdict
            verdict("v2.0", catalog="cra:2024"),  # another framework's
        ]
    )
    found = verdicts.releases(recs)
    assert [(v.release, v.seq, v.passed) for v in found] == [("v1.1", 2, True), ("v1.0", 3, True)]
    assert [v.release for v in verdicts.releases(recs, "cra:2024")] == ["v2.0"]
    base = verdicts.previous(recs, "v1.2")
    assert base is not None and base.seq == 3
    base = verdicts.previous(recs, "v1.0")  # never this release's own verdict
    assert base is not None and base.release == "v1.1"
    assert verdicts.previous(records([verdict("v1.0")]), "v1.0") is None
    base = verdicts.previous(recs, "v2.1", "cra:2024")  # the baseline of the same framework
    assert base is not None and base.release == "v2.0"
    assert verdicts.previous((), "v1.0") is None


def test_foreign_means_a_gate_verdict_of_another_catalogue() -> None:
    mine, cra = records([verdict("v1.0"), verdict("v1.0", catalog="cra:2024")])
    assert not verdicts.foreign(mine, verdicts.DEFAULT_CATALOG)
    assert verdicts.foreign(cra, verdicts.DEFAULT_CATALOG)
    assert verdicts.foreign(mine, "cra:2024") and not verdicts.foreign(cra, "cra:2024")
    (sast,) = records([stmt("sast", details={"catalog": "cra:2024"})])
    assert not verdicts.foreign(sast, verdicts.DEFAULT_CATALOG)


def result(rid: str, status: Status, rule: str = "training_record") -> RequirementResult:
    return RequirementResult(rid, rid, "SM", status, "why", rule)


def conformance(
    *results: RequirementResult, catalog: str = verdicts.DEFAULT_CATALOG
) -> Conformance:
    return Conformance(
        commit=C,
        evaluated_at=NOW,
        policy="p",
        policy_digest="d" * 64,
        requirements=results,
        practices=(),
        release="v1.1",
        catalog=catalog,
    )


def test_a_regression_is_a_status_strictly_worse_than_at_the_baseline() -> None:
    (r,) = records(
        [
            replace(
                verdict("v1.0"),
                predicate=replace(
                    verdict("v1.0").predicate,
                    details={
                        "release": "v1.0",
                        "passed": True,
                        "statuses": {
                            "SM-1": "satisfied",
                            "SM-2": "waived",
                            "SM-3": "waived",
                            "SM-4": "partial",
                        },
                    },
                ),
            )
        ]
    )
    base = verdicts.read(r)
    assert base is not None
    conf = conformance(
        result("SM-1", S.WAIVED),  # worse
        result("SM-2", S.WAIVED),  # the same: no regression
        result("SM-3", S.SATISFIED),  # better
        result("SM-4", S.FAILING),  # worse
        result("SM-5", S.FAILING),  # not judged at the baseline: nothing to compare
    )
    assert verdicts.regressions(conf, base) == (
        ("SM-1", "satisfied at v1.0, now waived"),
        ("SM-4", "partial at v1.0, now failing"),
    )


def test_the_verdict_entry_names_the_requirements_that_ask_for_it() -> None:
    iec = conformance(result("SM-4", S.SATISFIED))
    st, _ = verdicts.statement(iec, passed=True, ratchet=(), who="Ada <ada@example.com>", now=NOW)
    assert st.predicate.requirements == verdicts.REQUIREMENTS
    assert "catalog" not in st.predicate.details
    cra = conformance(
        result("CRA-I-1", S.SATISFIED, "all_of[release_gate_record, sbom]"),
        result("CRA-14", S.FAILING, "cra_report"),
        catalog="cra:2024",
    )
    st, _ = verdicts.statement(cra, passed=False, ratchet=(), who="Ada <ada@example.com>", now=NOW)
    assert st.predicate.requirements == ("CRA-I-1",)
    assert st.predicate.details["catalog"] == "cra:2024"
    assert st.predicate.result.status is ResultStatus.FAIL


def _waiver(seq: int, pending: str = "") -> Waiver:
    return Waiver("SVV-3", "r", "G <g@x.org>", "A <a@x.org>", NOW, seq, False, pending, "G")


def test_the_verdict_entry_records_the_decision_and_the_whole_report() -> None:
    conf = replace(
        conformance(
            result("SM-4", S.SATISFIED),
            result("SM-5", S.SATISFIED),
            result("SVV-3", S.WAIVED),
            result("SI-1", S.FAILING),
            result("SM-9", S.NOT_APPLICABLE),
        ),
        release=None,
        practices=(PracticeResult("SM", "Security management", 2, (), {}),),
        waivers=(_waiver(7), _waiver(8, pending="no approval signature")),
    )
    ratchet = (("SM-4", "satisfied at v1.0, now waived"),)
    who = "Ada <ada@example.com>"
    st, objects = verdicts.statement(conf, passed=False, ratchet=ratchet, who=who, now=NOW)
    report = json.dumps(conf.to_json(), indent=2, sort_keys=True).encode()
    digest = hashlib.sha256(report).hexdigest()
    assert objects == {digest: report}
    assert report.startswith(b'{\n  "catalog": ')  # sorted keys, indented: a stable file
    assert (st.commit, st.artifacts) == (C, (Artifact("conformance.json", digest),))
    p = st.predicate
    assert (p.kind, p.collector) == ("release_gate_record", "gate")
    assert p.tool == Tool("sdl-tracker", __version__)
    assert (p.recorded_by, p.recorded_at, p.provenance) == (who, NOW, Provenance.VERIFIED)
    assert p.result.status is ResultStatus.FAIL
    assert p.result.summary == "gate cccccccccc: failed (1 requirements not met, 1 regressions)"
    assert p.result.metrics == {
        **{s.value: 0 for s in Status},
        "satisfied": 2,
        "waived": 1,
        "failing": 1,
        "not_applicable": 1,
        "requirements": 5,
    }
    assert p.details == {
        "release": None,
        "commit": C,
        "passed": False,
        "policy": "p",
        "policy_digest": "d" * 64,
        "statuses": {
            "SM-4": "satisfied",
            "SM-5": "satisfied",
            "SVV-3": "waived",
            "SI-1": "failing",
            "SM-9": "not_applicable",
        },
        "ratchet": ["SM-4: satisfied at v1.0, now waived"],
        "waivers": [7],
        "maturity": {"SM": 2},
        "practices": {"SM": False},
    }
    st, _ = verdicts.statement(conf, passed=False, ratchet=(), who=who, now=NOW)
    assert st.predicate.result.summary == "gate cccccccccc: failed (1 requirements not met)"
    st, _ = verdicts.statement(
        replace(conf, release="v1.1"), passed=True, ratchet=(), who=who, now=NOW
    )
    assert st.predicate.result.summary == "gate v1.1: passed"
    assert st.predicate.result.status is ResultStatus.PASS


def test_a_verdict_being_made_is_not_evidence_for_itself() -> None:
    """SM-12's outcome when other requirements fail: failing, naming at most eight of them,
    keeping the evidence and waivers it was judged on."""
    ref = EvidenceRef(3, "h" * 64, "release_gate_record", "pass", True, "v1.0 passed", B, NOW)
    met = Outcome(S.SATISFIED, "v1.0 passed (entry 3)", "", (ref,), (_waiver(7),))
    assert evaluate._not_itself(met, ()) == met
    failing = Outcome(S.FAILING, "v1.0 failed", "fix v1.0", (ref,))
    assert evaluate._not_itself(failing, ("SM-4",)) == failing
    action = (
        "meet, tailor or waive the requirements named (each with an assessed issue record or a "
        "waiver); this one follows"
    )
    nine = tuple(f"SM-{i}" for i in range(1, 10))
    assert evaluate._not_itself(met, nine[:8]) == Outcome(
        S.FAILING,
        "this evaluation fails: 8 other requirement(s) not met and not waived "
        "(SM-1, SM-2, SM-3, SM-4, SM-5, SM-6, SM-7, SM-8) (met: v1.0 passed (entry 3))",
        action,
        (ref,),
        (_waiver(7),),
    )
    out = evaluate._not_itself(met, nine)
    assert out.reason == (
        "this evaluation fails: 9 other requirement(s) not met and not waived "
        "(SM-1, SM-2, SM-3, SM-4, SM-5, SM-6, SM-7, SM-8 and 1 more) (met: v1.0 passed (entry 3))"
    )


def test_only_the_gate_counts_its_own_run_in_the_release_history(tmp_path: Path) -> None:
    """`status --release v2.0` is no release: ML3 looks at v1.0's verdict; the gate judging
    v2.0 adds its own (failing) verdict to the history."""
    facts = CommitFacts(commit=C, ancestors=frozenset({B}), changed={})
    policy = tailored(tmp_path, only("SM-4,SM-12"))
    entries = [verdict("v1.0")]
    status = evaluate.evaluate(policy, entries, facts, NOW, release="v2.0")
    gate = evaluate.evaluate(policy, entries, facts, NOW, release="v2.0", gating=True)
    ml3 = {p.practice: p.levels[2] for p in status.practices}
    assert "release v1.0" in ml3["SG"] and "v2.0" not in ml3["SG"]
    # the gate's own run is in its history (here judged first by its commit's date, which this
    # repository-less test cannot give: "release v2.0: its commit ... is not in this repository")
    assert "release v2.0" in {p.practice: p.levels[2] for p in gate.practices}["SG"]


@pytest.mark.parametrize("status", list(Status))
def test_the_gate_accepts_only_satisfied_waived_and_not_applicable(status: Status) -> None:
    """Partial, stale, not demonstrated, incomplete, missing and failing all stop a release,
    even when every other requirement is satisfied."""
    accepted = status in (S.SATISFIED, S.WAIVED, S.NOT_APPLICABLE)
    assert status.passes is accepted
    conf = conformance(result("SM-4", S.SATISFIED), result("SM-5", status))
    assert conf.passed is accepted
    assert conformance(result("SM-5", status), result("SM-4", S.SATISFIED)).passed is accepted


# The requirement's verdict as the gate, the reports and the verdict entry read it: its
# identity, rule and action, and the waiver it names (evaluate._requirement).

FACTS = CommitFacts(commit=C, ancestors=frozenset({B}), changed={})


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return tailored(
        tmp_path_factory.mktemp("policy"),
        "requirements:\n  SI-2:\n    requires: {kind: sast, thresholds: {high: {max: 0}}}\n"
        "not_applicable:\n  SM-10: nobody develops custom components for us\n",
    )


def _rp(policy: Policy, rid: str):  # type: ignore[no-untyped-def]
    return next(rp for rp in policy.requirements if rp.id == rid)


def _sast(high: int) -> Statement:
    metrics = {"findings": high, "high": high, "medium": 0, "low": 0}
    return stmt("sast", requirements=("SI-2",), metrics=metrics, covers=("src",))


def _waiver_entry(target: str = "SI-2") -> Statement:
    return waivers_mod.statement(
        target=target,
        reason="accepted for this release",
        approver="Grace Hopper <grace@example.com>",
        requested_by="Ada Lovelace <ada@example.com>",
        expires=waivers_mod.parse_expiry("2026-06-10"),
        commit=C,
        now=NOW,
    )


def test_a_not_applicable_requirement_keeps_its_identity_rule_and_justification(
    policy: Policy,
) -> None:
    rp = _rp(policy, "SM-10")
    assert rp.title and rp.practice == "SM"
    found = evaluate.evaluate(policy, [], FACTS, NOW).result("SM-10")
    assert found == RequirementResult(
        requirement_id="SM-10",
        title=rp.title,
        practice="SM",
        status=S.NOT_APPLICABLE,
        reason="not applicable: nobody develops custom components for us",
        rule=evaluate._rule_words(rp),
        justification="nobody develops custom components for us",
    )
    assert found.rule


def test_a_waived_requirement_keeps_its_identity_and_dates_its_action(policy: Policy) -> None:
    rp = _rp(policy, "SI-2")
    entries = [_sast(high=2), _waiver_entry()]
    unwaived = evaluate.evaluate(policy, entries[:1], FACTS, NOW).result("SI-2")
    assert unwaived.status is S.FAILING and unwaived.action.startswith("fix what sast")
    found = evaluate.evaluate(policy, entries, FACTS, NOW, approvals=approve_all(entries))
    r = found.result("SI-2")
    assert r.status is S.WAIVED
    assert (r.requirement_id, r.title, r.practice) == ("SI-2", rp.title, rp.practice)
    assert r.rule == "sast (high ≤ 0)" == unwaived.rule
    assert r.action == f"before 2026-06-10: {unwaived.action}"
    assert r.waiver is not None and r.waiver.seq == 2 and r.waiver.counts


def test_a_pending_waiver_is_named_on_the_requirement_it_does_not_waive(policy: Policy) -> None:
    entries = [_sast(high=2), _waiver_entry()]
    r = evaluate.evaluate(policy, entries, FACTS, NOW).result("SI-2")  # nobody signed it
    assert r.status is S.FAILING
    assert r.waiver is not None and r.waiver.seq == 2 and r.waiver.pending
    assert f"; the waiver (entry 2) does not count: {r.waiver.pending}" in r.reason
    assert r.action.startswith("fix what sast")


class _Judge:
    """Each evidence kind has a fixed outcome, with the evidence and waivers it rests on."""

    def __init__(self, statuses: dict[str, Status]) -> None:
        self.statuses = statuses

    def leaf(self, leaf: Leaf, rid: str, max_age_days: int) -> Outcome:
        status = self.statuses[leaf.kind]
        kind = leaf.kind
        action = "" if status.passes else f"do {kind}"
        return Outcome(status, f"{kind} is {status.value}", action, (_ref(kind),), (_w(kind),))


def _w(kind: str) -> Waiver:
    return Waiver(kind, "r", "G <g@x.org>", "A <a@x.org>", NOW, ord(kind), False)


def _ref(kind: str) -> EvidenceRef:
    return EvidenceRef(ord(kind), kind * 64, kind, "pass", True, "", C, NOW)


def _combine(rule: AllOf | AnyOf, **statuses: Status) -> Outcome:
    return evaluate.combine(_Judge(statuses), rule, "SI-2", 30)  # type: ignore[arg-type]


def test_any_of_met_by_one_part_keeps_every_parts_evidence_and_the_met_parts_waivers() -> None:
    rule = AnyOf((Leaf("a"), Leaf("b")))
    assert _combine(rule, a=S.MISSING, b=S.SATISFIED) == Outcome(
        S.SATISFIED, "b is satisfied", "", (_ref("a"), _ref("b")), (_w("b"),)
    )


def test_any_of_not_met_names_every_part_and_keeps_every_waiver() -> None:
    rule = AnyOf((Leaf("a"), Leaf("b")))
    assert _combine(rule, a=S.MISSING, b=S.FAILING) == Outcome(
        S.FAILING,
        "one of [a is missing | b is failing]",
        "do b",
        (_ref("a"), _ref("b")),
        (_w("a"), _w("b")),
    )


def test_all_of_not_met_names_the_unmet_parts_first_and_keeps_every_waiver() -> None:
    rule = AllOf((Leaf("a"), Leaf("b"), Leaf("c")))
    assert _combine(rule, a=S.SATISFIED, b=S.STALE, c=S.MISSING) == Outcome(
        S.STALE,
        "b is stale; c is missing (met: a is satisfied)",
        "do b; do c",
        (_ref("a"), _ref("b"), _ref("c")),
        (_w("a"), _w("b"), _w("c")),
    )


def test_all_of_met_joins_every_parts_reason_and_keeps_their_evidence() -> None:
    out = _combine(AllOf((Leaf("a"), Leaf("b"))), a=S.SATISFIED, b=S.SATISFIED)
    expected = ("a is satisfied; b is satisfied", "", (_ref("a"), _ref("b")))
    assert (out.status, out.reason, out.action, out.refs) == (S.SATISFIED, *expected)


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [
        ((S.MISSING, S.MISSING, S.MISSING), "a is missing; b is missing; c is missing"),
        (
            (S.SATISFIED, S.MISSING, S.SATISFIED),
            "b is missing (met: a is satisfied; c is satisfied)",
        ),
    ],
)
def test_all_of_not_met_says_which_parts_were_met_only_when_some_were(
    statuses: tuple[Status, ...], reason: str
) -> None:
    out = _combine(AllOf((Leaf("a"), Leaf("b"), Leaf("c"))), **dict(zip("abc", statuses)))
    assert out.reason == reason


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((S.SATISFIED, S.WAIVED, S.NOT_DEMONSTRATED), S.NOT_DEMONSTRATED),
        ((S.WAIVED, S.NOT_DEMONSTRATED, S.NOT_DEMONSTRATED), S.NOT_DEMONSTRATED),
        ((S.SATISFIED, S.WAIVED, S.WAIVED), S.WAIVED),
        ((S.WAIVED, S.WAIVED, S.WAIVED), S.WAIVED),
        ((S.SATISFIED, S.WAIVED, S.PARTIAL), S.PARTIAL),
        ((S.NOT_DEMONSTRATED, S.MISSING, S.MISSING), S.MISSING),
    ],
)
def test_all_of_without_a_failure_is_decided_by_its_weakest_kind_of_part(
    statuses: tuple[Status, ...], expected: Status
) -> None:
    """A part not demonstrated (no population to judge) is never hidden by a waived or satisfied
    part; waived and satisfied parts alone are waived; anything else met in part is partial."""
    out = _combine(AllOf((Leaf("a"), Leaf("b"), Leaf("c"))), **dict(zip("abc", statuses)))
    assert out.status is expected


@pytest.mark.parametrize("name", ["iec62443-4-1", "cra-2024-2847"])
def test_the_evaluation_names_its_commit_policy_catalogue_release_and_waivers(name: str) -> None:
    policy = policy_load.load(name)
    entries = [_sast(high=2), _waiver_entry()]
    conf = evaluate.evaluate(
        policy, entries, FACTS, NOW, release="v2.0", approvals=approve_all(entries)
    )
    assert (conf.commit, conf.evaluated_at, conf.release) == (C, NOW, "v2.0")
    assert (conf.policy, conf.policy_digest) == (policy.name, policy.digest)
    assert conf.catalog == policy.catalog.id
    assert [w.seq for w in conf.waivers] == [2]
