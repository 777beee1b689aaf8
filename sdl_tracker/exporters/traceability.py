"""`traceability.json`: threat -> mitigation -> requirement -> test -> result, for the auditor.

Taken from the `traceability_matrix` evidence the verdicts rest on (its stored
`traceability.json`: every chain, every security requirement with its tests, every test). With
no such evidence but threat models recorded, the chains are rebuilt from the models' normalised
JSON with the result `no test report`; with neither, the matrix is empty and `note` says why —
an empty matrix is never presented as a complete one.
"""

from __future__ import annotations

import json
from typing import Any

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import JSON

FORMAT = "sdl-tracker-traceability/1"
NO_REPORT = "no test report"
_KEYS = (
    "requirements",
    "chains",
    "tests",
    "unknown_requirement_refs",
    "unknown_threat_refs",
    "missing_tests",
)


def view(source: Source) -> str:
    dumped = json.dumps(matrix(source), indent=2, sort_keys=True, ensure_ascii=False)
    return safe_text.json_document(dumped) + "\n"


def matrix(source: Source) -> dict[str, JSON]:
    for record in reversed(source.evidence("traceability_matrix")):
        for artifact, data in source.artifacts(record, ".json"):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get("chains"), list):
                return _document(
                    record,
                    {k: doc.get(k, []) for k in _KEYS},
                    f"from the traceability evidence (entry {record.seq}, {artifact.name})",
                )
    models = source.evidence("threat_model")
    chains = [c for r in models for c in _model_chains(source, r)]
    if chains:
        return _document(
            None,
            {**{k: [] for k in _KEYS}, "chains": chains},
            "no traceability evidence was recorded (run the tests with a JUnit report, then "
            "`sdl-tracker collect --only tests`): chains rebuilt from the threat models "
            f"(entries {', '.join(str(r.seq) for r in models)}), without test results",
        )
    return _document(
        None,
        {k: [] for k in _KEYS},
        "empty: no traceability evidence and no threat model were recorded for this release "
        "(`sdl-tracker collect --only threat-model,tests`)",
    )


def _document(record: Record | None, body: dict[str, Any], note: str) -> dict[str, JSON]:
    results: dict[str, int] = {}
    for chain in body["chains"]:
        if isinstance(chain, dict):
            key = str(chain.get("result", ""))
            results[key] = results.get(key, 0) + 1
    status = record.statement.predicate.result.status.value if record else None
    doc: dict[str, JSON] = {
        "format": FORMAT,
        "note": note,
        "entry": record.seq if record else None,
        "status": status,
        "summary": {"chains": len(body["chains"]), "results": dict(sorted(results.items()))},
    }
    doc.update(body)
    return doc


def _model_chains(source: Source, record: Record) -> list[JSON]:
    chains: list[JSON] = []
    for _, data in source.artifacts(record, ".normalised.json"):
        try:
            model = json.loads(data)
        except ValueError:
            continue
        if not isinstance(model, dict):
            continue
        path = str(model.get("path", ""))
        mitigations = [m for m in model.get("mitigations") or [] if isinstance(m, dict)]
        for threat in (t for t in model.get("threats") or [] if isinstance(t, dict)):
            tid = str(threat.get("id", ""))
            start = {"model": path, "threat": tid, "threat_status": str(threat.get("status", ""))}
            linked = [m for m in mitigations if tid in (m.get("threats") or [])]
            for m in linked:
                tests = [str(t) for t in m.get("tests") or []] or [""]
                for test in tests:
                    chains.append(
                        {
                            **start,
                            "mitigation": str(m.get("id", "")),
                            "requirements": [str(r) for r in m.get("requirements") or []],
                            "test": test,
                            "result": NO_REPORT if test else "no test",
                        }
                    )
            if not linked:
                chains.append(
                    {**start, "mitigation": "", "requirements": [], "test": "", "result": "no test"}
                )
    return chains
