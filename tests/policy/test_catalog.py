from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sdl_tracker.errors import CatalogError
from sdl_tracker.policy import catalog

REFERENCE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "iec62443-4-1-catalog.yaml"
)

EXPECTED = (
    [f"SM-{n}" for n in range(1, 14)]
    + [f"SR-{n}" for n in range(1, 6)]
    + [f"SD-{n}" for n in range(1, 5)]
    + [f"SI-{n}" for n in range(1, 3)]
    + [f"SVV-{n}" for n in range(1, 6)]
    + [f"DM-{n}" for n in range(1, 7)]
    + [f"SUM-{n}" for n in range(1, 6)]
    + [f"SG-{n}" for n in range(1, 8)]
)


def test_exactly_the_47_requirements_in_8_practices_in_order() -> None:
    cat = catalog.load()
    assert cat.id == "iec62443-4-1:2018"
    assert list(cat.ids()) == EXPECTED
    assert len(cat.requirements) == 47
    assert [p.id for p in cat.practices] == ["SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG"]
    assert [len(cat.in_practice(p.id)) for p in cat.practices] == [13, 5, 4, 2, 5, 6, 5, 7]
    assert {r.practice for r in cat.requirements} == {p.id for p in cat.practices}


def test_every_requirement_is_complete_and_uses_known_evidence_kinds() -> None:
    cat = catalog.load()
    for r in cat.requirements:
        assert r.title and r.intent and r.clause, r.id
        assert r.id.startswith(r.practice + "-")
        assert r.automation in ("auto", "partial", "manual"), r.id
        assert r.evidence, r.id
        assert set(r.evidence) <= set(cat.evidence_kinds), (
            r.id,
            set(r.evidence) - set(cat.evidence_kinds),
        )


def test_titles_match_the_reference_and_intents_are_our_own_words() -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is not available")
    reference = {r["id"]: r for r in yaml.safe_load(REFERENCE.read_text())}
    cat = catalog.load()
    assert set(reference) == set(cat.ids())
    for r in cat.requirements:
        assert r.title == reference[r.id]["title"], r.id
        ours = r.intent.lower().split()
        theirs = " ".join(str(reference[r.id]["intent"]).lower().split())
        # no run of seven words copied from the reference's paraphrase
        runs = {" ".join(ours[i : i + 7]) for i in range(len(ours) - 6)}
        assert not [run for run in runs if run in theirs], r.id


def test_lookups_and_errors() -> None:
    cat = catalog.load()
    assert cat.requirement("SVV-4").title == "Penetration testing"
    assert cat.practice("SG").name == "Security guidelines"
    with pytest.raises(CatalogError, match="unknown requirement 'SM-14'"):
        cat.requirement("SM-14")
    with pytest.raises(CatalogError, match="unknown practice 'XX'"):
        cat.practice("XX")
    with pytest.raises(CatalogError, match="unknown catalogue"):
        catalog.load("en-iec62443-4-1:2099")


def test_every_document_kind_has_a_cadence_and_sections_for_requirements_using_it() -> None:
    cat = catalog.load()
    documents = {k for k in cat.evidence_kinds if k.startswith("document:")}
    assert documents <= set(cat.documents)
    for kind, doc in cat.documents.items():
        assert doc.cadence in catalog.CADENCES, kind
        for section in doc.sections:
            assert section.heading and section.guidance and section.match, kind
            for rid in section.requirements:
                assert kind in cat.requirement(rid).evidence, (kind, rid)
    needing = {
        rid for doc in cat.documents.values() for s in doc.sections for rid in s.requirements
    }
    wanted = {"SR-4", "SD-2", "SUM-2", "SUM-3", "SUM-4", "DM-1"} | {f"SG-{n}" for n in range(1, 7)}
    assert wanted <= needing


def test_a_bad_cadence_or_unknown_document_kind_is_an_error() -> None:
    data = yaml.safe_load(
        (Path(catalog.__file__).parent / "catalogs" / "iec62443-4-1-2018.yaml").read_text()
    )
    data["documents"]["process_doc"] = {"cadence": "weekly"}
    with pytest.raises(CatalogError, match="cadence 'weekly'"):
        catalog._from_dict(data)
    data["documents"] = {"document:nonesuch": {"cadence": "annual"}}
    with pytest.raises(CatalogError, match="unknown document kinds: document:nonesuch"):
        catalog._from_dict(data)


def test_every_requirement_says_what_an_assessor_will_still_ask_for() -> None:
    cat = catalog.load()
    assert set(cat.assessor) == set(cat.ids())
    assert all(0 < len(text) <= 80 for text in cat.assessor.values())


def _cra_data() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(
        (Path(catalog.__file__).parent / "catalogs" / "cra-2024-2847.yaml").read_text()
    )


def test_every_cra_item_says_what_an_assessor_will_still_ask_for() -> None:
    cat = catalog.load("cra:2024-2847")
    assert set(cat.assessor) == set(cat.ids())
    assert all(0 < len(text) <= 100 for text in cat.assessor.values())


def test_the_cra_product_properties_hint_at_62443_4_2_foundational_requirements() -> None:
    cat = catalog.load("cra:2024-2847")
    assert cat.product_assessment is not None
    assert cat.product_assessment.standard == "IEC 62443-4-2"
    assert list(cat.product_assessment.requirements) == [f"FR {n}" for n in range(1, 8)]
    hinted = [r.id for r in cat.requirements if r.product_assessment]
    assert hinted == [f"CRA-I-2{c}" for c in "defghijklm"]
    hints = cat.hints("CRA-I-2i")
    assert hints is not None
    assert hints.line() == (
        "IEC 62443-4-2 (hint): FR 5 Restricted data flow; FR 7 Resource availability"
    )
    assert cat.hints("CRA-I-2a") is None and catalog.load().hints("SVV-4") is None


def test_a_product_assessment_hint_must_name_a_listed_requirement() -> None:
    data = _cra_data()
    item = next(r for r in data["requirements"] if r["id"] == "CRA-I-2e")
    item["product_assessment"] = {"fr": ["FR 9"]}
    with pytest.raises(
        CatalogError, match=r"CRA-I-2e: product_assessment names FR 9 \(known: FR 1"
    ):
        catalog._from_dict(data, catalog.load())
    item["product_assessment"] = {"note": "a note with no requirement"}
    with pytest.raises(CatalogError, match="CRA-I-2e: product_assessment names no requirement"):
        catalog._from_dict(data, catalog.load())
    item["product_assessment"] = {"fr": ["FR 4"]}
    del data["product_assessment"]
    with pytest.raises(CatalogError, match="CRA-I-2d: product_assessment hint, but the catalogue"):
        catalog._from_dict(data, catalog.load())
    data["product_assessment"] = {"standard": "IEC 62443-4-2", "requirements": {}}
    with pytest.raises(CatalogError, match="lists no requirements"):
        catalog._from_dict(data, catalog.load())
