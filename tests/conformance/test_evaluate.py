from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from evidence_factory import NOW, A, B, C, X, approve_all, only, stmt, tailored

from sdl_tracker.conformance import waivers
from sdl_tracker.conformance.evaluate import combine, evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.judge import Outcome
from sdl_tracker.conformance.model import Status
from sdl_tracker.ledger import chain
from sdl_tracker.models import ResultStatus, Statement
from sdl_tracker.policy.model import AllOf, AnyOf, Leaf, Policy, Rule

FACTS = CommitFacts(
    commit=C,
    ancestors=frozenset({A, B}),
    changed={A: ("docs/x.md", "src/app/main.py"), B: ("docs/guide.md",)},
)
PASS, FAIL, INCOMPLETE, INFO = (
    ResultStatus.PASS,
    ResultStatus.FAIL,
    ResultStatus.INCOMPLETE,
    ResultStatus.INFO,
)
S = Status


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return tailored(
        tmp_path_factory.mktemp("policy"),
        """\
requirements:
  SI-2:
    requires: {kind: sast, thresholds: {high: {max: 0}}, max_age_days: 30}
  SI-1:
    requires:
      kind: review_record
      named: true
      thresholds: {independently_reviewed/commits: {min: 0.95}}
  SVV-1:
    requires: test_report
not_applicable:
  SM-10: nobody develops custom components for us
""",
    )


def result(policy: Policy, statements: Sequence[Statement], rid: str, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("approvals", approve_all(statements))
    return evaluate(policy, statements, kw.pop("facts", FACTS), kw.pop("now", NOW), **kw).result(
        rid
    )  # type: ignore[arg-type]


def sast(**kw: object) -> Statement:
    kw.setdefault("metrics", {"findings": 0, "high": 0, "medium": 0, "low": 0})
    kw.setdefault("covers", ("src",))
    return stmt("sast", requirements=("SI-2", "SVV-3"), **kw)  # type: ignore[arg-type]


# (name, statements, expected status, words in the reason)
SAST_CASES = [
    ("nothing", [], S.MISSING, "sast: no evidence"),
    ("pass on C", [sast()], S.SATISFIED, "entry 1 on cccccccccc"),
    ("info counts", [sast(status=INFO)], S.SATISFIED, "entry 1"),
    ("threshold failed", [sast(metrics={"high": 2})], S.FAILING, "high = 2, expected high ≤ 0"),
    (
        "incomplete",
        [sast(status=INCOMPLETE, summary="bandit could not parse a.py")],
        S.INCOMPLETE,
        "incomplete: bandit could not parse a.py",
    ),
    ("metric absent", [sast(metrics={"findings": 0})], S.INCOMPLETE, "metric 'high' not reported"),
    ("too old", [sast(age_days=40)], S.STALE, "40 days old (max 30 days)"),
    (
        "covered path changed",
        [sast(commit=A)],
        S.STALE,
        "src/app/main.py changed between aaaaaaaaaa",
    ),
    ("ancestor, unrelated change", [sast(commit=B)], S.SATISFIED, "entry 1 on bbbbbbbbbb"),
    ("ancestor, whole tree", [sast(commit=B, covers=(".",))], S.STALE, "docs/guide.md changed"),
    ("not in history", [sast(commit=X)], S.STALE, "outside the history of cccccccccc"),
    ("newer pass supersedes fail", [sast(metrics={"high": 3}), sast()], S.SATISFIED, "entry 2"),
    ("newer fail supersedes pass", [sast(), sast(metrics={"high": 1})], S.FAILING, "entry 2"),
    (
        "newer incomplete supersedes pass",
        [sast(), sast(status=INCOMPLETE)],
        S.INCOMPLETE,
        "entry 2 is incomplete",
    ),
    (
        "whole tree supersedes a part",
        [sast(covers=("src/app",), metrics={"high": 4}), sast(covers=("./",))],
        S.SATISFIED,
        "entry 2",
    ),
    (
        "disjoint paths: one stale",
        [sast(commit=A, covers=("src/app",)), sast(covers=("tools",))],
        S.STALE,
        "entry 1",
    ),
    (
        "disjoint paths: both good",
        [sast(covers=("src",)), sast(covers=("tools",))],
        S.SATISFIED,
        "entry 1",
    ),
    (
        "other branch does not supersede",
        [sast(), sast(commit=X, metrics={"high": 9})],
        S.SATISFIED,
        "entry 1",
    ),
    (
        "reaffirmed counts like the original",
        [sast(commit=A, age_days=3), sast(details={"reaffirms": 1}, age_days=0)],
        S.SATISFIED,
        "entry 2 (reaffirms 1)",
    ),
    (
        "reaffirmation keeps the original's age",
        [sast(age_days=45), sast(details={"reaffirms": 1}, age_days=0)],
        S.STALE,
        "entry 2 (reaffirms 1) is 45 days old",
    ),
    (
        "reaffirmed failure still fails",
        [sast(metrics={"high": 1}), sast(details={"reaffirms": 1}, metrics={"high": 0})],
        S.FAILING,
        "high = 1",
    ),
    (
        "reaffirms nothing",
        [sast(details={"reaffirms": 7})],
        S.INCOMPLETE,
        "reaffirms entry 7, which is not an earlier entry",
    ),
    ("thresholds decide over the tool's fail", [sast(status=FAIL)], S.SATISFIED, "entry 1"),
]


@pytest.mark.parametrize(
    ("statements", "status", "words"), [c[1:] for c in SAST_CASES], ids=[c[0] for c in SAST_CASES]
)
def test_sast_leaf(policy: Policy, statements: list[Statement], status: Status, words: str) -> None:
    r = result(policy, statements, "SI-2")
    assert r.status is status, r.reason
    assert words in r.reason
    assert (r.action == "") is (status is S.SATISFIED)


def review(independent: int, commits: int, **kw: object) -> Statement:
    kw.setdefault("requirements", ("SI-1", "SD-3", "SR-5", "SVV-5"))
    return stmt(
        "review_record",
        metrics={"commits": commits, "reviewed": commits, "independently_reviewed": independent},
        covers=(".",),
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("statement", "status", "words"),
    [
        (review(19, 20), S.SATISFIED, "entry 1"),
        (review(18, 20), S.FAILING, "independently_reviewed/commits = 0.9, expected"),
        (review(0, 0), S.INCOMPLETE, "independently_reviewed/commits is undefined (commits = 0)"),
        (review(20, 20, requirements=("DM-6",)), S.MISSING, "no evidence naming SI-1"),
    ],
)
def test_ratio_threshold_and_named_evidence(
    policy: Policy, statement: Statement, status: Status, words: str
) -> None:
    r = result(policy, [statement], "SI-1")
    assert r.status is status
    assert words in r.reason


@pytest.mark.parametrize(
    ("status", "expected"),
    [(PASS, S.SATISFIED), (INFO, S.SATISFIED), (FAIL, S.FAILING), (INCOMPLETE, S.INCOMPLETE)],
)
def test_without_thresholds_the_entry_result_decides(
    policy: Policy, status: ResultStatus, expected: Status
) -> None:
    r = result(
        policy, [stmt("test_report", status=status, summary="3 of 40 tests failed")], "SVV-1"
    )
    assert r.status is expected
    if expected is S.FAILING:
        assert "failed: 3 of 40 tests failed" in r.reason
        assert "sdl-tracker waive SVV-1" in r.action


def test_not_applicable_carries_the_justification(policy: Policy) -> None:
    r = result(policy, [], "SM-10")
    assert r.status is S.NOT_APPLICABLE
    assert r.justification == "nobody develops custom components for us"
    assert r.status.passes


def waiver(
    target: str,
    expires: str,
    approver: str = "Grace Hopper <grace@example.com>",
    requester: str = "Ada Lovelace <ada@example.com>",
) -> Statement:
    return waivers.statement(
        target=target,
        reason="accepted for this release",
        approver=approver,
        requested_by=requester,
        expires=waivers.parse_expiry(expires),
        commit=C,
        now=NOW - timedelta(days=2),
    )


def test_requirement_waiver_counts_until_it_expires(policy: Policy) -> None:
    entries = [sast(metrics={"high": 2}), waiver("SI-2", "2026-06-10")]
    r = result(policy, entries, "SI-2")
    assert r.status is S.WAIVED
    assert r.waiver is not None and r.waiver.seq == 2 and not r.waiver.expired
    assert "Without the waiver: failing: sast" in r.reason
    expired = result(
        policy,
        [sast(metrics={"high": 2}, age_days=0), waiver("SI-2", "2026-06-10")],
        "SI-2",
        now=NOW + timedelta(days=9, hours=12),
    )
    assert expired.status is S.FAILING
    assert "the waiver (entry 2) expired on 2026-06-10" in expired.reason
    assert expired.waiver is not None and expired.waiver.expired


def test_self_approved_waiver_does_not_count(policy: Policy) -> None:
    entries = [
        sast(metrics={"high": 2}),
        waiver("SI-2", "2026-07-01", approver="Ada L. <ADA@example.com>"),
    ]
    conf = evaluate(policy, entries, FACTS, NOW)
    assert conf.result("SI-2").status is S.FAILING
    assert conf.waivers == ()


def test_finding_waiver_with_severity(policy: Policy) -> None:
    findings = {"findings": [{"id": "B602", "severity": "HIGH"}, {"id": "B101", "severity": "LOW"}]}
    failing = sast(metrics={"high": 1, "low": 1}, details=findings)
    r = result(policy, [failing], "SI-2")
    assert r.status is S.FAILING
    assert "not waived: B602" in r.reason
    r = result(policy, [failing, waiver("B602", "2026-07-01")], "SI-2")
    assert r.status is S.WAIVED
    assert "waived findings: B602" in r.reason
    assert r.waiver is not None and r.waiver.target == "B602"


def test_finding_waiver_by_alias_for_dependency_audit(policy: Policy) -> None:
    vulns = {
        "vulnerabilities": [
            {"id": "PYSEC-2018-28", "aliases": ["CVE-2018-18074"], "status": "affected"},
            {"id": "GHSA-x", "aliases": [], "status": "not_affected"},
        ]
    }
    audit = stmt(
        "dependency_audit",
        metrics={"vulnerabilities": 1, "not_affected": 1},
        covers=("requirements.txt",),
        details=vulns,
        status=FAIL,
    )
    sbom = stmt("sbom", covers=("requirements.txt",), metrics={"components": 12})
    assert result(policy, [sbom, audit], "SM-9").status is S.FAILING
    waived = result(policy, [sbom, audit, waiver("CVE-2018-18074", "2026-07-01")], "SM-9")
    assert waived.status is S.WAIVED
    assert "PYSEC-2018-28" in waived.reason


def test_critical_paths_must_be_covered(tmp_path: Path) -> None:
    policy = tailored(
        tmp_path,
        "critical_paths: [src/auth]\nrequirements:\n  SI-2:\n"
        "    requires: {kind: sast, cover_critical: true}\n",
    )
    partial = result(policy, [sast(covers=("src/app",))], "SI-2")
    assert partial.status is S.PARTIAL
    assert "does not cover security-critical path(s) src/auth" in partial.reason
    assert result(policy, [sast(covers=("src",))], "SI-2").status is S.SATISFIED


def gate_record(passed: bool, release: str = "v1.0", commit: str = B) -> Statement:
    return stmt(
        "release_gate_record",
        commit=commit,
        status=PASS if passed else FAIL,
        requirements=("SM-11", "SM-12"),
        details={"release": release, "passed": passed, "statuses": {}},
    )


@pytest.fixture(scope="module")
def sm12(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return tailored(tmp_path_factory.mktemp("sm12"), only("SM-12"))


@pytest.mark.parametrize(
    ("entries", "release", "gating", "status"),
    [
        ([], "v2.0", False, S.NOT_DEMONSTRATED),
        ([], "v2.0", True, S.NOT_DEMONSTRATED),
        ([gate_record(True)], "v2.0", False, S.SATISFIED),
        ([gate_record(True)], None, False, S.SATISFIED),
        ([gate_record(False)], "v2.0", False, S.FAILING),
        ([gate_record(False)], "v2.0", True, S.FAILING),
        # this release's own verdicts, or any verdict on this commit, never count for it
        ([gate_record(True, "v2.0")], "v2.0", True, S.NOT_DEMONSTRATED),
        ([gate_record(True, "v1.9", commit=C)], "v2.0", False, S.NOT_DEMONSTRATED),
        # the newest earlier release decides
        ([gate_record(True, "v1.0"), gate_record(False, "v1.1")], "v2.0", False, S.FAILING),
    ],
)
def test_process_verification_is_the_previous_release(
    sm12: Policy, entries: list[Statement], release: str | None, gating: bool, status: Status
) -> None:
    found = result(sm12, entries, "SM-12", release=release, gating=gating)
    assert found.status is status, found.reason
    if status is S.NOT_DEMONSTRATED:
        assert "gate a first release" in found.action and "tailor SM-12" in found.action


def test_a_failing_evaluation_never_shows_its_own_verification_met(tmp_path: Path) -> None:
    policy = tailored(tmp_path, only("SM-4,SM-11,SM-12"))
    issues = stmt("issue_tracker_record", metrics={"issues": 1})
    found = result(policy, [gate_record(True), issues], "SM-12", release="v2.0", gating=True)
    assert found.status is S.FAILING
    assert "1 other requirement(s) not met and not waived (SM-4)" in found.reason
    assert "the previous release v1.0" in found.reason
    # SM-11 is judged from this evaluation's own problems (tests/conformance/test_tracking.py)
    training = stmt("training_record", requirements=("SM-4",))
    met = result(policy, [gate_record(True), issues, training], "SM-12", release="v2.0")
    assert met.status is S.SATISFIED, met.reason


@pytest.mark.parametrize(
    ("metrics", "status"),
    [({"issues": 0}, S.NOT_DEMONSTRATED), ({"issues": 2}, S.SATISFIED), ({}, S.INCOMPLETE)],
)
def test_an_empty_population_is_not_demonstrated(
    policy: Policy, metrics: dict[str, int], status: Status
) -> None:
    found = result(policy, [stmt("issue_tracker_record", metrics=metrics)], "DM-3")
    assert found.status is status, found.reason
    assert not found.status.passes or status is S.SATISFIED
    if status is S.NOT_DEMONSTRATED:
        assert "counts 0 issues" in found.reason
        assert "run a drill" in found.action and "tailor DM-3" in found.action


def test_not_demonstrated_is_waivable(policy: Policy) -> None:
    empty = stmt("issue_tracker_record", metrics={"issues": 0})
    found = result(policy, [empty, waiver("DM-2", "2026-07-01")], "DM-2")
    assert found.status is S.WAIVED
    assert "Without the waiver: not_demonstrated" in found.reason


class FakeJudge:
    """Stands in for Judge: each evidence kind has a fixed outcome."""

    def __init__(self, statuses: dict[str, Status]) -> None:
        self.statuses = statuses

    def leaf(self, leaf: Leaf, rid: str, max_age_days: int) -> Outcome:
        status = self.statuses[leaf.kind]
        action = "" if status is S.SATISFIED else f"do {leaf.kind}"
        return Outcome(status, f"{leaf.kind} is {status.value}", action)


def all_of(*kinds: str) -> Rule:
    return AllOf(tuple(Leaf(k) for k in kinds))


def any_of(*kinds: str) -> Rule:
    return AnyOf(tuple(Leaf(k) for k in kinds))


COMBINATIONS = [
    (all_of("a", "b"), (S.SATISFIED, S.SATISFIED), S.SATISFIED),
    (all_of("a", "b"), (S.SATISFIED, S.MISSING), S.PARTIAL),
    (all_of("a", "b"), (S.MISSING, S.MISSING), S.MISSING),
    (all_of("a", "b"), (S.SATISFIED, S.FAILING), S.FAILING),
    (all_of("a", "b"), (S.FAILING, S.INCOMPLETE), S.FAILING),
    (all_of("a", "b"), (S.STALE, S.INCOMPLETE), S.INCOMPLETE),
    (all_of("a", "b"), (S.SATISFIED, S.STALE), S.STALE),
    (all_of("a", "b"), (S.MISSING, S.STALE), S.STALE),
    (all_of("a", "b"), (S.SATISFIED, S.WAIVED), S.WAIVED),
    (all_of("a", "b"), (S.PARTIAL, S.MISSING), S.PARTIAL),
    (all_of("a", "b"), (S.WAIVED, S.MISSING), S.PARTIAL),
    (any_of("a", "b"), (S.MISSING, S.SATISFIED), S.SATISFIED),
    (any_of("a", "b"), (S.FAILING, S.SATISFIED), S.SATISFIED),
    (any_of("a", "b"), (S.MISSING, S.FAILING), S.FAILING),
    (any_of("a", "b"), (S.FAILING, S.STALE), S.STALE),
    (any_of("a", "b"), (S.INCOMPLETE, S.FAILING), S.INCOMPLETE),
    (any_of("a", "b"), (S.MISSING, S.MISSING), S.MISSING),
    (any_of("a", "b"), (S.WAIVED, S.MISSING), S.WAIVED),
    (any_of("a", "b"), (S.PARTIAL, S.STALE), S.PARTIAL),
    (AllOf((Leaf("a"), any_of("b", "c"))), (S.SATISFIED, S.MISSING, S.SATISFIED), S.SATISFIED),
    (AllOf((Leaf("a"), any_of("b", "c"))), (S.SATISFIED, S.MISSING, S.FAILING), S.FAILING),
    (AnyOf((Leaf("a"), all_of("b", "c"))), (S.MISSING, S.SATISFIED, S.MISSING), S.PARTIAL),
]


@pytest.mark.parametrize(("rule", "statuses", "expected"), COMBINATIONS)
def test_combinators(rule: Rule, statuses: tuple[Status, ...], expected: Status) -> None:
    judge = FakeJudge(dict(zip("abc", statuses)))
    out = combine(judge, rule, "SI-2", 30)  # type: ignore[arg-type]
    assert out.status is expected
    if expected is not S.SATISFIED:
        assert out.action, "every unmet rule says what to do"
        assert out.reason


def test_evidence_refs_say_why_each_entry_counted_or_not(policy: Policy) -> None:
    entries = [sast(metrics={"high": 3}, artifact=b"{}"), sast(commit=X), sast(artifact=b"[]")]
    r = result(policy, entries, "SI-2")
    by_seq = {ref.seq: ref for ref in r.evidence}
    assert by_seq[1].why == "superseded by entry 3" and not by_seq[1].counted
    assert "not in the history" in by_seq[2].why and not by_seq[2].counted
    assert by_seq[3].counted and by_seq[3].artifacts[0].name == "sast.json"


def test_evaluate_reads_ledger_entries_and_is_deterministic(policy: Policy) -> None:
    entries = chain.seal(None, [sast(), stmt("document:coding_standard", covers=())])
    first = evaluate(policy, entries, FACTS, NOW)
    second = evaluate(policy, entries, FACTS, NOW)
    assert first.to_json() == second.to_json()
    assert first.result("SI-2").evidence[0].hash == entries[0].hash
    assert first.policy_digest == policy.digest


def test_evaluate_judges_every_requirement_over_thousands_of_entries(policy: Policy) -> None:
    # How fast: benchmarks/evaluate.py (a wall-clock assertion here failed on a busy machine).
    kinds = [
        "sast",
        "dependency_audit",
        "review_record",
        "document:hardening_guide",
        "training_record",
        "threat_model",
        "test_report",
        "issue_tracker_record",
    ]
    statements = [
        stmt(
            kinds[i % len(kinds)],
            commit=(A, B, C, X)[i % 4],
            covers=("src",) if i % 3 else (),
            metrics={"high": 0, "vulnerabilities": 0, "open": 0},
            age_days=i / 1000,
        )
        for i in range(10_000)
    ]
    conf = evaluate(policy, statements, FACTS, NOW)
    assert len(conf.requirements) == 47


def test_no_commit_to_review_is_not_demonstrated(tmp_path: Path) -> None:
    policy = tailored(tmp_path, only("SI-1"))
    found = result(policy, [review(0, 0), sast(covers=("src",))], "SI-1")
    assert found.status is S.NOT_DEMONSTRATED, found.reason
    assert "counts 0 commits" in found.reason


@pytest.mark.parametrize(
    ("entry", "status"),
    [
        (stmt("retrospective_record", requirements=("DM-6",), age_days=30), S.SATISFIED),
        (stmt("retrospective_record", requirements=("DM-6",), age_days=400), S.STALE),
        (stmt("retrospective_record", requirements=("SM-13",)), S.MISSING),
        (stmt("review_record", requirements=("DM-6",)), S.MISSING),
    ],
)
def test_dm6_needs_a_yearly_review_record_naming_it(
    tmp_path: Path, entry: Statement, status: Status
) -> None:
    policy = tailored(tmp_path, only("DM-6"))
    found = result(policy, [entry], "DM-6")
    assert found.status is status, found.reason
    if status is S.MISSING:
        assert "sdl-tracker record retrospective_record FILE -r DM-6" in found.action


def test_the_policys_longest_waiver_is_enforced_by_the_evaluation(
    tmp_path: Path, policy: Policy
) -> None:
    """A waiver asked on 2026-05-30 for 100 days exceeds the default 90: it does not count."""
    entries = [sast(metrics={"high": 2}), waiver("SI-2", "2026-09-07")]
    r = result(policy, entries, "SI-2")
    assert r.status is S.FAILING
    assert "it lasts 100 days; the policy allows at most 90" in r.reason
    longer = tailored(tmp_path, "approvals: {waiver_max_days: 120}\n" + only("SI-2"))
    r = result(longer, entries, "SI-2")
    assert r.status is S.WAIVED, r.reason


def _two_waived_parts(tmp_path: Path) -> tuple[Policy, list[Statement]]:
    """SVV-3's shape: all_of a dependency audit and sast, each part met only through a finding
    waiver of its own."""
    policy = tailored(
        tmp_path,
        "requirements:\n  SVV-3:\n    requires:\n      all_of:\n"
        "        - {kind: dependency_audit, thresholds: {vulnerabilities: {max: 0}}}\n"
        "        - {kind: sast, thresholds: {high: {max: 0}}}\n",
    )
    audit = stmt(
        "dependency_audit",
        metrics={"vulnerabilities": 1},
        covers=("requirements.txt",),
        details={"vulnerabilities": [{"id": "PYSEC-2018-28", "aliases": ["CVE-2018-18074"]}]},
        status=FAIL,
    )
    high = {"findings": [{"id": "B602", "severity": "HIGH"}]}
    entries = [
        audit,
        sast(metrics={"high": 1}, details=high, status=FAIL),
        waiver("CVE-2018-18074", "2026-07-01"),
        waiver("B602", "2026-07-01"),
    ]
    return policy, entries


def test_a_part_met_through_a_waiver_is_waived_never_satisfied(tmp_path: Path) -> None:
    """A part is never *satisfied* because of a waiver: the finding check makes it *waived*,
    and a leaf takes its worst entry (waived before satisfied), so an all_of whose parts are
    all satisfied has no waiver to keep; an all_of with a waived part is waived and keeps it."""
    policy, entries = _two_waived_parts(tmp_path)
    clean = stmt("dependency_audit", metrics={"vulnerabilities": 0}, covers=("requirements.txt",))
    waived_sast, b602 = entries[1], entries[3]
    for statements in (
        [clean, waived_sast, b602],
        [clean, waived_sast, sast(covers=("lib",)), b602],  # beside a satisfied entry of its kind
    ):
        r = result(policy, statements, "SVV-3")
        assert r.status is S.WAIVED, r.reason
        assert [w.target for w in r.waivers] == ["B602"]
        assert r.waiver is not None and r.waiver.target == "B602"
    met = result(policy, [clean, sast(), b602], "SVV-3")
    assert met.status is S.SATISFIED and met.waivers == () and met.waiver is None


def test_every_part_waiver_is_shown_with_the_requirement(tmp_path: Path) -> None:
    policy, entries = _two_waived_parts(tmp_path)
    r = result(policy, entries, "SVV-3")
    assert r.status is S.WAIVED
    assert "waived findings: PYSEC-2018-28" in r.reason and "waived findings: B602" in r.reason
    assert [(w.seq, w.target) for w in r.waivers] == [(3, "CVE-2018-18074"), (4, "B602")]
    assert [w["seq"] for w in r.to_json()["waivers"]] == [3, 4]  # type: ignore[index,union-attr]
