from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from evidence_factory import stmt

from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.model import Conformance, EvidenceRef, RequirementResult, Status
from sdl_tracker.exporters.source import Source, statement_bytes
from sdl_tracker.ledger.chain import seal

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _ref(seq: int, kind: str, counted: bool) -> EvidenceRef:
    return EvidenceRef(seq, "h", kind, "pass", counted, "why", "c" * 40, NOW - timedelta(days=seq))


def _source(refs: tuple[EvidenceRef, ...]) -> Source:
    result = RequirementResult("SI-2", "t", "SI", Status.PARTIAL, "r", "rule", evidence=refs)
    conf = Conformance("c" * 40, NOW, "p", "0" * 64, (result,), ())
    recs = records([stmt("sast"), stmt("sast"), stmt("sast"), stmt("sbom"), stmt("sbom")])
    return Source(conformance=conf, records=recs)


def test_a_view_shows_the_counted_entries_else_the_newest_considered_else_the_newest() -> None:
    counted = _source((_ref(1, "sast", True), _ref(2, "sast", False), _ref(3, "sast", True)))
    assert [r.seq for r in counted.evidence("sast")] == [1, 3]
    considered = _source((_ref(1, "sast", False), _ref(2, "sast", False)))
    assert [r.seq for r in considered.evidence("sast")] == [2]
    assert [r.seq for r in considered.evidence("sbom")] == [5]
    assert considered.evidence("threat_model") == ()
    assert considered.referenced() == (1, 2)


def test_statement_bytes_are_the_stored_statement() -> None:
    (entry,) = seal(None, [stmt("sast", details={"text": ',"statement":'})])
    raw = statement_bytes(entry)
    assert json.loads(raw) == json.loads(entry.raw)["statement"]
    assert entry.raw.endswith(raw + b"}")


def test_failing_threat_models_are_shown_one_entry_per_model_file() -> None:
    """Nine failing models are nine entries, not the newest of them only."""
    recs = records(
        [
            stmt("threat_model", details={"model": "a.json"}),
            stmt("threat_model", details={"model": "b.json"}),
            stmt("threat_model", details={"model": "a.json"}),
            stmt("threat_model", details={"model": "c.yaml"}),
        ]
    )
    refs = tuple(_ref(s, "threat_model", False) for s in (1, 2, 3))
    result = RequirementResult("SM-2", "t", "SM", Status.FAILING, "r", "rule", evidence=refs)
    conf = Conformance("c" * 40, NOW, "p", "0" * 64, (result,), ())
    considered = Source(conformance=conf, records=recs)
    assert [r.seq for r in considered.evidence("threat_model")] == [2, 3]
    unjudged = Source(conformance=Conformance("c" * 40, NOW, "p", "0" * 64, (), ()), records=recs)
    assert [r.seq for r in unjudged.evidence("threat_model")] == [2, 3, 4]
