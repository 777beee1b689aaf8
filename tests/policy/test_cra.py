"""The CRA catalogue (`cra:2024-2847`) and its default policy: data, loader fields, honesty."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from evidence_factory import NOW, C, stmt

from sdl_tracker.conformance.evaluate import evaluate
from sdl_tracker.conformance.facts import CommitFacts
from sdl_tracker.conformance.model import Status
from sdl_tracker.errors import CatalogError, PolicyError
from sdl_tracker.policy import catalog
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.policy.model import AllOf, Leaf, Rule, describe

CRA = "cra:2024-2847"
PART_I = ["CRA-I-1"] + [f"CRA-I-2{c}" for c in "abcdefghijklm"]
PART_II = [f"CRA-II-{n}" for n in range(1, 9)]
ART = [
    "CRA-13-2",
    "CRA-13-5",
    "CRA-13-6",
    "CRA-13-8",
    "CRA-13-9",
    "CRA-13-12",
    "CRA-13-18",
    "CRA-14",
    "CRA-14-8",
]
#: Annex I Part I (2)(b) and (d)-(m): properties of the product.
PRODUCT = ["CRA-I-2b"] + [f"CRA-I-2{c}" for c in "defghijklm"]
#: The kinds that can stand for a product property when they name the item.
PROOF = {"attestation", "pentest_report", "test_report", "attack_surface_analysis"}
FACTS = CommitFacts(commit=C, ancestors=frozenset(), changed={})


def test_the_31_items_in_four_groups_with_the_loader_fields() -> None:
    cat = catalog.load(CRA)
    assert list(cat.ids()) == PART_I + PART_II + ART
    assert [p.id for p in cat.practices] == ["AI-P1", "AI-P2", "ART13", "ART14"]
    base = catalog.load()
    assert cat.vocabulary == base.id
    for r in cat.requirements:
        assert r.title and r.intent and r.clause, r.id
        assert r.form in catalog.FORMS, r.id
        assert r.supported_by and set(r.supported_by) <= set(base.ids()), r.id
        assert set(r.evidence) <= set(cat.evidence_kinds), r.id
    assert all(cat.requirement(rid).form != "automated" for rid in PRODUCT)


def test_the_evidence_vocabulary_is_the_62443_one_plus_its_own_kind() -> None:
    cra, base = catalog.load(CRA), catalog.load()
    assert set(cra.evidence_kinds) - set(base.evidence_kinds) == {"support_period"}
    assert all(cra.evidence_kinds[k] == v for k, v in base.evidence_kinds.items())
    assert cra.attestable == base.attestable
    assert base.requirement("SM-1").form is None and base.requirement("SM-1").supported_by == ()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"form": "guess"}, "form 'guess' is not one of automated, document, attestation"),
        ({"supported_by": ["SM-99"]}, "supported_by names SM-99"),
        ({"evidence": ["sats"]}, "unknown evidence kinds sats"),
    ],
)
def test_loader_refuses_wrong_item_fields(change: dict[str, object], words: str) -> None:
    item = {
        "id": "CRA-X",
        "practice": "P",
        "clause": "c",
        "title": "t",
        "intent": "i",
        "evidence": ["sbom"],
        "automation": "auto",
        "form": "automated",
        "supported_by": ["SM-9"],
        **change,
    }
    data = {
        "catalog": "x",
        "title": "x",
        "practices": [{"id": "P", "number": 1, "name": "p", "clause": "c"}],
        "requirements": [item],
        "evidence_kinds": {},
    }
    with pytest.raises(CatalogError, match=words):
        catalog._from_dict(data, catalog.load())


def test_owner_finds_the_catalogue_of_an_id_and_suggests() -> None:
    assert catalog.owner("CRA-I-2a").id == CRA
    assert catalog.owner("SVV-3", CRA).id == "iec62443-4-1:2018"
    with pytest.raises(CatalogError, match="did you mean CRA-I-2a"):
        catalog.owner("CRA-I-2aa")


def _kinds(rule: Rule) -> list[Leaf]:
    if isinstance(rule, Leaf):
        return [rule]
    return [leaf for r in rule.rules for leaf in _kinds(r)]


@pytest.mark.parametrize("rid", PRODUCT)
def test_a_product_property_needs_a_named_statement_or_test_beside_a_product_document(
    rid: str,
) -> None:
    rule = policy_mod.load("cra-2024-2847").requirement(rid).rule
    assert isinstance(rule, AllOf)
    assert any(isinstance(p, Leaf) and p.kind.startswith("document:") for p in rule.rules)
    proofs = [p for p in rule.rules if not isinstance(p, Leaf)] or [
        p for p in rule.rules if isinstance(p, Leaf) and p.kind in PROOF
    ]
    (proof,) = proofs
    for leaf in _kinds(proof):
        assert leaf.kind in PROOF and (leaf.named or leaf.kind == "attack_surface_analysis")


def test_process_evidence_alone_never_satisfies_a_product_property() -> None:
    """Every kind of the vocabulary recorded, passing and fresh, except the ones that can
    speak for the product (statements and tests naming the item): (2)(b), (d)-(m) stay open."""
    policy = policy_mod.load("cra-2024-2847")
    kinds = sorted(set(policy.catalog.evidence_kinds) - PROOF - {"waiver", "signature"})
    evidence = [stmt(k, now=NOW, commit=C) for k in kinds]
    evidence += [stmt(k, now=NOW, commit=C) for k in sorted(PROOF)]  # naming nothing
    conf = evaluate(policy, evidence, FACTS, NOW)
    for rid in PRODUCT:
        assert conf.result(rid).status is not Status.SATISFIED, rid
    assert conf.result("CRA-II-6").status is Status.SATISFIED  # the process items do pass


def test_a_named_unsigned_attestation_is_not_enough_for_a_product_property() -> None:
    policy = policy_mod.load("cra-2024-2847")
    evidence = [
        stmt("document:account_management_guide", now=NOW),
        stmt("attestation", requirements=["CRA-I-2d"], now=NOW),
    ]
    result = evaluate(policy, evidence, FACTS, NOW).result("CRA-I-2d")
    assert result.status is Status.PARTIAL
    assert "needs attestation signed" in result.reason


def issues(**metrics: int) -> list:  # type: ignore[type-arg]
    return [stmt("issue_tracker_record", metrics=metrics, now=NOW)]


@pytest.mark.parametrize(
    ("evidence", "status", "words"),
    [
        ([], Status.MISSING, "issue_tracker_record: no evidence"),
        (
            issues(issues=2, cra_reportable=1, cra_overdue=0, cra_late=0),
            Status.SATISFIED,
            "",
        ),
        (
            issues(issues=2, cra_reportable=1, cra_overdue=1, cra_late=0),
            Status.FAILING,
            "cra_overdue = 1, expected cra_overdue ≤ 0",
        ),
        (
            issues(issues=2, cra_reportable=2, cra_overdue=0, cra_late=1),
            Status.FAILING,
            "cra_late = 1, expected cra_late ≤ 0",
        ),
        (
            issues(issues=0, cra_reportable=0, cra_overdue=0, cra_late=0),
            Status.FAILING,
            "issues = 0, expected issues ≥ 1",
        ),
        (issues(issues=3), Status.INCOMPLETE, "metric 'cra_overdue' not reported"),
    ],
)
def test_reporting_clock_rule(evidence: list, status: Status, words: str) -> None:  # type: ignore[type-arg]
    result = evaluate(policy_mod.load("cra-2024-2847"), evidence, FACTS, NOW).result("CRA-14")
    assert result.status is status, result.reason
    assert words in result.reason


def test_a_cra_policy_is_refused_for_the_other_framework_and_vice_versa(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ours = tmp_path / "p.yaml"
    ours.write_text("extends: iec62443-4-1\n")
    with pytest.raises(PolicyError, match="a policy for iec62443-4-1:2018, but --framework cra"):
        policy_mod.resolve(ours, None, "cra")
    assert policy_mod.resolve(None, ours, "cra").catalog.id == CRA  # config's policy is 62443's
    cra = tmp_path / "cra.yaml"
    cra.write_text("extends: cra-2024-2847\nnot_applicable: {CRA-I-2l: stateless library}\n")
    assert policy_mod.resolve(cra, None, "cra").requirement("CRA-I-2l").not_applicable


DOC = Path(__file__).resolve().parents[2] / "docs" / "cra.md"


def test_the_manuals_crosswalk_is_the_catalogue_and_the_default_policy() -> None:
    """docs/cra.md's table, row by row: item, clause, title, form, 62443-4-1 support, rule."""
    cat, policy = catalog.load(CRA), policy_mod.load("cra-2024-2847")
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- crosswalk:")[1].split("<!-- end crosswalk -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| CRA-")]
    expected = [
        f"| {r.id} | {r.clause} | {r.title} | {r.form} | {', '.join(r.supported_by)} | "
        + describe(policy.requirement(r.id).rule).replace("|", "\\|")
        + " |"
        for r in cat.requirements
    ]
    assert rows == expected


def test_the_manuals_62443_4_2_hints_are_the_catalogues() -> None:
    cat = catalog.load(CRA)
    table = DOC.read_text(encoding="utf-8").split("<!-- fr hints:")[1].split("<!-- end fr")[0]
    rows = [line.strip() for line in table.splitlines() if line.strip().startswith("| CRA-")]
    expected = []
    for r in cat.requirements:
        hints = cat.hints(r.id)
        if hints is not None:
            frs = "; ".join(f"{i} {t}" for i, t in hints.requirements)
            expected.append(f"| {r.id} | {r.title} | {frs} | {hints.note or ''} |")
    assert len(rows) == 10 and rows == expected


def test_reporting_clock_evidence_older_than_a_day_is_stale() -> None:
    old = [
        stmt(
            "issue_tracker_record",
            metrics={"issues": 1, "cra_reportable": 1, "cra_overdue": 0, "cra_late": 0},
            age_days=2,
            now=NOW,
        )
    ]
    result = evaluate(policy_mod.load("cra-2024-2847"), old, FACTS, NOW).result("CRA-14")
    assert result.status is Status.STALE
    assert "(max 1 days)" in result.reason


def _user_information(found: dict[str, bool], age_days: float = 2) -> list:  # type: ignore[type-arg]
    """The documents collector's evidence for docs/user-information.md, sections as found."""
    sections = catalog.load(CRA).documents["document:user_manual"].sections
    return [
        stmt(
            "document:user_manual",
            age_days=age_days,
            details={
                "path": "docs/user-information.md",
                "changed_at": (NOW - timedelta(days=age_days)).isoformat(),
                "problems": [],
                "sections": [
                    {
                        "heading": x.heading,
                        "requirements": list(x.requirements),
                        "found": found.get(x.heading, True),
                    }
                    for x in sections
                ],
            },
        )
    ]


def test_user_information_is_judged_by_its_annex_ii_sections() -> None:
    """CRA-13-18 needs the user-information document with every section of the CRA catalogue's
    `documents:` block; the vocabulary's cadence and sections still hold for the other kinds."""
    cat = catalog.load(CRA)
    kind = cat.documents["document:user_manual"]
    assert kind.cadence == "per_release"
    assert {r for x in kind.sections for r in x.requirements} == {"CRA-13-18"}
    assert [x.heading for x in kind.sections][:2] == [
        "Manufacturer and contact",
        "Reporting vulnerabilities",
    ]
    assert (
        cat.documents["document:support_policy"]
        == catalog.load().documents["document:support_policy"]
    )
    policy = policy_mod.load("cra-2024-2847")
    complete = evaluate(policy, _user_information({}), FACTS, NOW).result("CRA-13-18")
    assert complete.status is Status.SATISFIED, complete.reason
    gap = {"Support period": False, "Security updates": False}
    result = evaluate(policy, _user_information(gap), FACTS, NOW).result("CRA-13-18")
    assert result.status is Status.PARTIAL
    assert "missing section(s) CRA-13-18 needs: Support period, Security updates" in result.reason
