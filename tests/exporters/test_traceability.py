from __future__ import annotations

import json
from datetime import datetime, timezone

from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.exporters import traceability
from sdl_tracker.exporters.source import Source

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_the_matrix_comes_from_the_traceability_evidence(files: dict[str, bytes]) -> None:
    doc = json.loads(files["traceability.json"])
    assert doc["entry"] == 3 and doc["status"] == "fail"
    chains = {(c["threat"], c["mitigation"], c["test"]): c["result"] for c in doc["chains"]}
    assert chains[("T-001", "M-001", "tests.test_agent::test_rejects_unsigned_image")] == "passed"
    assert chains[("T-002", "M-002", "tests.test_agent::test_rejects_unknown_server")] == "failed"
    assert ("T-003", "", "") in chains  # accepted, no mitigation, no test
    assert {r["id"] for r in doc["requirements"]} == {"SR-1.2", "SR-3.1"}
    assert doc["summary"]["chains"] == len(doc["chains"])


def test_without_test_evidence_chains_come_from_the_threat_model(source: Source) -> None:
    kept = [r for r in source.records if r.statement.predicate.kind == "threat_model"]
    only_models = Source(conformance=_empty(), records=records(kept), objects=dict(source.objects))
    doc = traceability.matrix(only_models)
    assert "without test results" in str(doc["note"])
    assert doc["entry"] is None and doc["requirements"] == []
    chains = doc["chains"]
    assert isinstance(chains, list)
    rows = {(c["threat"], c["mitigation"], c["test"], c["result"]) for c in chains}  # type: ignore[index]
    assert (
        "T-001",
        "M-001",
        "tests/test_agent.py::test_rejects_unsigned_image",
        "no test report",
    ) in rows
    assert ("T-003", "", "", "no test") in rows


def test_with_neither_the_matrix_is_explicitly_empty() -> None:
    doc = traceability.matrix(Source(conformance=_empty()))
    assert doc["chains"] == [] and doc["summary"] == {"chains": 0, "results": {}}
    assert str(doc["note"]).startswith("empty: no traceability evidence and no threat model")


def _empty() -> Conformance:
    return Conformance("c" * 40, NOW, "p", "0" * 64, (), ())
