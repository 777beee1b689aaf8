"""The CRA view of the export: `--framework cra`, with the Annex VII technical-documentation
index in conformance.json, OSCAL (valid against NIST's schema) and the HTML report."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from evidence_factory import stmt
from export_support import copy_repo, python_patterns, schema
from helpers import git
from release_factory import TAG, XSS, Release

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.exporters import html, oscal, package
from sdl_tracker.exporters import json as json_view
from sdl_tracker.exporters.release import gather
from sdl_tracker.exporters.source import Source
from sdl_tracker.models import ResultStatus
from sdl_tracker.workspace import open_workspace

NEVER = datetime(1999, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def cra_repo(tmp_path_factory: pytest.TempPathFactory, release_repo: Release) -> Path:
    """The shared release, also gated under the CRA (a failing verdict: evidence is missing)."""
    root = copy_repo(release_repo, tmp_path_factory.mktemp("cra"))
    return root


@pytest.fixture
def cra_source(cra_repo: Path, git_env: None) -> Source:
    ws = open_workspace(cra_repo)
    if not any(
        e.statement().predicate.details.get("catalog") == "cra:2024-2847"
        for e in ledger.entries(ws.store())
    ):
        flagged = stmt(
            "support_period",
            commit=git(cra_repo, "rev-parse", f"{TAG}^{{commit}}"),
            status=ResultStatus.FAIL,
            metrics={"releases_without_end": 1, "short_unjustified": 0},
            covers=("docs/support-policy.md",),
            details={"flags": [f"{TAG}: no end-of-support date"]},
            summary=f"1 release(s) without an end-of-support date: {TAG}",
            now=datetime.now(timezone.utc),
        )
        ledger.append(ws.store(), [flagged])
        assert main(["gate", "--framework", "cra", "--release", TAG, "-C", str(cra_repo)]) == 1
    return gather(ws, release=TAG, policy_file=None, now=NEVER, framework="cra")


def test_the_cra_export_is_cut_at_the_cra_gate_verdict_and_reproduces_it(
    cra_source: Source, release_repo: Release
) -> None:
    conf = cra_source.conformance
    assert conf.catalog == "cra:2024-2847" and len(conf.requirements) == 31
    assert cra_source.gate is not None and cra_source.gate.seq > release_repo.gate_seq
    assert cra_source.gate.differences == ()
    assert cra_source.entries[-1].seq == cra_source.gate.seq


def test_conformance_json_indexes_annex_vii_to_ledger_artifacts(cra_source: Source) -> None:
    doc = json.loads(json_view.view(cra_source))
    parts = {p["id"]: p for p in doc["technical_documentation"]}
    assert len(parts) == 12
    sbom = parts["sbom"]
    assert sbom["gap"] is None and sbom["entries"][0]["kind"] == "sbom"
    assert sbom["entries"][0]["artifacts"][0]["name"].startswith("sbom")
    doc_of_conformity = parts["declaration-of-conformity"]
    assert doc_of_conformity["entries"] == []
    assert doc_of_conformity["gap"] == "no ledger entry of attestation naming CRA-13-12"
    (period,) = parts["support-period"]["entries"]
    assert period["kind"] == "support_period" and period["counted"] is False
    assert period["flags"] == [f"{TAG}: no end-of-support date"]
    assert parts["standards-applied"]["entries"][-1]["seq"] == cra_source.gate.seq  # type: ignore[union-attr]
    # every artifact the index names is in the package
    files = package.contents(cra_source)
    for part in parts.values():
        for entry in part["entries"]:
            for a in entry["artifacts"]:
                assert f"artifacts/{a['sha256']}" in files


def test_conformance_json_hints_at_62443_4_2_for_the_product_properties(
    cra_source: Source,
) -> None:
    doc = json.loads(json_view.view(cra_source))
    hints = doc["product_assessment"]
    assert sorted(hints) == [f"CRA-I-2{c}" for c in "defghijklm"]
    assert hints["CRA-I-2d"] == {
        "standard": "IEC 62443-4-2",
        "requirements": [
            {"id": "FR 1", "title": "Identification and authentication control"},
            {"id": "FR 2", "title": "Use control"},
        ],
        "note": None,
    }
    assert "directly" in hints["CRA-I-2g"]["note"]
    satisfied = {r["id"] for r in doc["requirements"] if r["status"] == "satisfied"}
    assert set(doc.get("assessor_will_ask", {})) == satisfied


def test_the_62443_export_has_no_documentation_index(source: Source) -> None:
    assert "technical_documentation" not in json.loads(json_view.view(source))
    assert "back-matter" not in oscal.document(source)["assessment-results"]


def _nist(doc: Any) -> list[str]:
    checker = jsonschema.Draft7Validator(
        python_patterns(schema("oscal_assessment-results_schema.json")),
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in checker.iter_errors(doc)]


def test_oscal_is_valid_and_holds_one_resource_per_documentation_part(
    cra_source: Source,
) -> None:
    doc = oscal.document(cra_source)
    assert _nist(doc) == []
    results = doc["assessment-results"]
    assert results["results"][0]["title"].startswith(
        "Regulation (EU) 2024/2847 (Cyber Resilience Act) conformance of"
    )
    resources = results["back-matter"]["resources"]
    assert len(resources) == 12
    gap = next(r for r in resources if r["title"].endswith("EU declaration of conformity"))
    assert {"name": "documentation-status", "ns": oscal.NS, "value": "gap"} in gap["props"]
    assert "rlinks" not in gap
    sbom = next(r for r in resources if r["title"].endswith("software bill of materials"))
    assert any(link["href"].startswith("../artifacts/") for link in sbom["rlinks"])


def test_the_html_report_shows_the_index_and_escapes_repository_text(cra_source: Source) -> None:
    page = html.view(cra_source)
    assert "<h1>Regulation (EU) 2024/2847 (Cyber Resilience Act) evidence: v1.0</h1>" in page
    assert page.count('<tr data-documentation="') == 12
    assert "no ledger entry of attestation naming CRA-13-12" in page
    assert f'<span class="status st-failing">flagged</span> {TAG}: no end-of-support date' in page
    assert XSS not in page
    assert page.count("<dt>IEC 62443-4-2 (hint)</dt>") == 10
    assert "<dd>FR 2 Use control; FR 6 Timely response to events</dd>" in page
    satisfied = [r for r in cra_source.conformance.requirements if r.status.value == "satisfied"]
    assert page.count("<dt>An assessor will still ask for</dt>") == len(satisfied)


def test_export_command_writes_the_cra_zip(cra_source: Source, cra_repo: Path) -> None:
    out = cra_repo.parent / "cra.zip"
    argv = ["export", "--framework", "cra", "--release", TAG, "--out", str(out)]
    assert main([*argv, "-C", str(cra_repo)]) == 0
    with zipfile.ZipFile(out) as z:
        doc = json.loads(z.read("conformance.json"))
    assert doc["catalog"] == "cra:2024-2847" and len(doc["technical_documentation"]) == 12
