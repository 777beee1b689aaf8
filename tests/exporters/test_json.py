from __future__ import annotations

import hashlib
import json

from release_factory import XSS, Release

from sdl_tracker import ledger
from sdl_tracker.conformance import verdicts
from sdl_tracker.conformance.evidence import records
from sdl_tracker.exporters import EXPORTERS
from sdl_tracker.exporters import json as json_view
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.ledger import GitStore


def test_conformance_json_holds_verdicts_policy_waivers_and_maturity(
    files: dict[str, bytes], released: Release
) -> None:
    doc = json.loads(files["conformance.json"])
    assert doc["format"] == "sdl-tracker-conformance/1"
    assert doc["release"] == "v1.0" and len(doc["requirements"]) == 47
    assert sum(doc["counts"].values()) == 47
    compact = json.dumps(doc["policy_document"], sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(compact.encode()).hexdigest() == doc["policy_digest"]
    assert doc["not_applicable"] == {"SM-10": f"no custom components from suppliers {XSS}"}
    assert set(doc["maturity"]) == {"SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG"}
    assert doc["maturity"]["SM"] == "ML1"
    (waiver,) = doc["waivers"]
    assert waiver["target"] == "SM-8" and waiver["seq"] == 9 and XSS in waiver["reason"]
    assert doc["gate"]["entry"] == released.gate_seq and doc["gate"]["reproduced"] is True
    assert doc["ledger"]["entries"] == released.gate_seq
    svv4 = next(r for r in doc["requirements"] if r["id"] == "SVV-4")
    assert svv4["status"] == "satisfied"
    (evidence,) = svv4["evidence"]
    assert evidence["kind"] == "pentest_report" and evidence["counted"] is True
    assert evidence["artifacts"][0]["name"] == f"pentest {XSS}.txt"


def test_the_statuses_are_the_ones_the_gate_recorded(source: Source, released: Release) -> None:
    recs = records(ledger.entries(GitStore(released.repo)))
    verdict = verdicts.read(recs[released.gate_seq - 1])
    assert verdict is not None
    assert {r.requirement_id: r.status for r in source.conformance.requirements} == dict(
        verdict.statuses
    )
    assert source.conformance.evaluated_at == recs[-1].statement.predicate.recorded_at


def test_registered_and_renders_without_a_ledger_slice(source: Source) -> None:
    doc = json.loads(EXPORTERS["json"].render(Report(source.conformance)))
    assert doc["gate"] is None and doc["ledger"] is None and doc["policy_document"] is None
    assert json_view.view(source) == json_view.view(source)


def test_an_assessor_note_stands_next_to_each_satisfied_requirement_only(
    files: dict[str, bytes],
) -> None:
    doc = json.loads(files["conformance.json"])
    satisfied = {r["id"] for r in doc["requirements"] if r["status"] == "satisfied"}
    asks = doc["assessor_will_ask"]
    assert "SVV-4" in satisfied and set(asks) == satisfied
    assert asks["SVV-4"] == "the testers' qualification and the report's scope"
    assert "SM-10" not in asks  # not applicable: nothing was shown, nothing to ask about
    assert "product_assessment" not in doc  # the 62443-4-1 catalogue gives no such hint
