from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
from export_support import python_patterns, schema
from node_tools import nist_oscal_schema

from sdl_tracker.exporters import EXPORTERS, oscal
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(
        python_patterns(schema("oscal_assessment-results_schema.json")),
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )


def errors(doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator().iter_errors(doc)]


def test_valid_against_nists_schema_with_the_patterns_in_force(files: dict[str, bytes]) -> None:
    doc = json.loads(files["oscal/assessment-results.json"])
    assert errors(doc) == []
    # the translated \p{L} patterns still reject what NIST's would: a token must not start
    # with a digit or hold a space
    bad = copy.deepcopy(doc)
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "1 SM"
    assert any("target-id" in e for e in errors(bad))
    accented = copy.deepcopy(doc)
    accented["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "Ü-1"
    assert errors(accented) == []


def test_one_finding_per_requirement_and_one_observation_per_entry(source: Source) -> None:
    doc = oscal.document(source)["assessment-results"]
    assert isinstance(doc, dict)
    (result,) = doc["results"]
    findings, observations = result["findings"], result["observations"]
    conf = source.conformance
    assert [f["target"]["target-id"] for f in findings] == [
        r.requirement_id for r in conf.requirements
    ]
    assert len(findings) == 47
    seqs = sorted({e.seq for r in conf.requirements for e in r.evidence})
    assert [int(_prop(o, "ledger-entry")) for o in observations] == seqs
    uuids = {o["uuid"] for o in observations}
    for f, r in zip(findings, conf.requirements):
        assert _prop(f, "status") == r.status.value
        related = {o["observation-uuid"] for o in f.get("related-observations", [])}
        assert related <= uuids
        assert len(related) == len({e.seq for e in r.evidence})
    states = {r.requirement_id: f["target"]["status"] for f, r in zip(findings, conf.requirements)}
    assert states["SVV-4"] == {
        "state": "satisfied",
        "reason": "pass",
        "remarks": states["SVV-4"]["remarks"],
    }
    assert states["SM-8"]["state"] == "not-satisfied" and states["SM-8"]["reason"] == "other"
    assert "waiver (entry 9" in states["SM-8"]["remarks"]
    assert (
        states["SM-10"]["state"] == "satisfied" and "not applicable:" in states["SM-10"]["remarks"]
    )
    assert states["SM-1"]["state"] == "not-satisfied" and states["SM-1"]["reason"] == "fail"
    sbom = next(o for o in observations if _prop(o, "evidence-kind") == "sbom")
    hrefs = [e["href"] for e in sbom["relevant-evidence"]]
    assert hrefs[0].startswith("../artifacts/") and hrefs[-1].endswith(".intoto.json")


def test_the_same_release_gives_the_same_document(source: Source) -> None:
    assert oscal.view(source) == oscal.view(source)


def test_registered_and_valid_from_verdicts_alone(source: Source) -> None:
    text = EXPORTERS["oscal"].render(Report(source.conformance))
    doc = json.loads(text)
    assert errors(doc) == []
    assert "../statements/" not in text  # no statement files outside a package


def _prop(item: dict[str, Any], name: str) -> str:
    return next(p["value"] for p in item["props"] if p["name"] == name)


def _nist(model: str, doc: Any) -> list[str]:
    checker = jsonschema.Draft7Validator(
        python_patterns(nist_oscal_schema(model)),
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in checker.iter_errors(doc)]


def test_the_plan_and_the_results_it_is_imported_by_are_valid_oscal(
    files: dict[str, bytes], source: Source, tmp_path: Path
) -> None:
    plan = json.loads(files["oscal/assessment-plan.json"])
    results = json.loads(files["oscal/assessment-results.json"])
    assert _nist("assessment-plan", plan) == []
    assert _nist("assessment-results", results) == []
    assert results["assessment-results"]["import-ap"]["href"] == "assessment-plan.json"
    activities = plan["assessment-plan"]["local-definitions"]["activities"]
    assert [a["title"].split()[0] for a in activities] == [
        r.requirement_id for r in source.conformance.requirements
    ]
    broken = copy.deepcopy(plan)
    del broken["assessment-plan"]["import-ssp"]
    assert any("import-ssp" in e for e in _nist("assessment-plan", broken))
    # compliance-trestle (IBM's OSCAL library) loads both, and the import resolves to the plan.
    from trestle.oscal.assessment_plan import AssessmentPlan
    from trestle.oscal.assessment_results import AssessmentResults

    (tmp_path / "oscal").mkdir()
    for name in ("assessment-plan.json", "assessment-results.json"):
        (tmp_path / "oscal" / name).write_bytes(files[f"oscal/{name}"])
    ar = AssessmentResults.oscal_read(tmp_path / "oscal" / "assessment-results.json")
    assert ar is not None and len(ar.results[0].findings or []) == 47
    ap = AssessmentPlan.oscal_read(tmp_path / "oscal" / ar.import_ap.href)
    assert ap is not None and str(ap.uuid) == plan["assessment-plan"]["uuid"]
    assert len(ap.local_definitions.activities or []) == 47  # type: ignore[union-attr]
