"""`conformance.json`: every requirement's verdict with its evidence, and what it was judged by.

`Conformance.to_json()` (status, reason, rule, evidence entries and artifact digests, waiver or
N/A justification per requirement; ML per practice; waivers) plus the resolved policy itself —
`policy_digest` is the SHA-256 of `policy_document` as compact sorted JSON, so an auditor can
recompute it — the N/A justifications and ML levels gathered in one place, the gate verdict
entry, and the ledger slice the verdicts were judged from. `assessor_will_ask` says, per
satisfied requirement, what an assessor will still ask for; `product_assessment`, per CRA product
property, the IEC 62443-4-2 foundational requirements a product assessment would look at. Under a
framework that asks for technical documentation (the CRA), `technical_documentation` indexes its
parts (Annex VII) to the ledger entries and artifacts behind them.
"""

from __future__ import annotations

import json

from sdl_tracker import __version__
from sdl_tracker.conformance.model import Status
from sdl_tracker.exporters import documentation
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import JSON, format_time

NAME = "json"
FORMAT = "sdl-tracker-conformance/1"


def render(report: Report) -> str:
    return view(Source(conformance=report.conformance))


def view(source: Source) -> str:
    """The document as text: indented, keys sorted, so equal inputs give equal bytes."""
    dumped = json.dumps(document(source), indent=2, sort_keys=True, ensure_ascii=False)
    return safe_text.json_document(dumped) + "\n"


def document(source: Source) -> dict[str, JSON]:
    conf = source.conformance
    doc = conf.to_json()
    tally = {s.value: 0 for s in Status}
    for r in conf.requirements:
        tally[r.status.value] += 1
    counts: dict[str, JSON] = dict(tally)
    doc.update(
        {
            "format": FORMAT,
            "generator": f"sdl-tracker {__version__}",
            "counts": counts,
            "policy_document": source.policy.to_json() if source.policy else None,
            "not_applicable": {
                r.requirement_id: r.justification
                for r in conf.requirements
                if r.status is Status.NOT_APPLICABLE
            },
            "maturity": {
                p.practice: f"ML{p.maturity}" if p.maturity else "none" for p in conf.practices
            },
            "gate": _gate(source),
            "ledger": _ledger(source),
            "notes": list(source.notes),
        }
    )
    doc.update(_catalog_notes(source))
    if source.tailoring is not None:
        t = source.tailoring
        doc["tailoring"] = {
            "files": [f.to_json() for f in t.files],
            "approved_by": t.approved_by,
            "entry": t.entry,
            "why": t.why or None,
        }
    parts = documentation.index(source)
    if parts:
        doc["technical_documentation"] = documentation.to_json(parts)
    return doc


def _catalog_notes(source: Source) -> dict[str, JSON]:
    """What an assessor will still ask for, per satisfied requirement; where a product
    assessment would show each item that has a hint (present only when the catalogue says)."""
    if source.policy is None:
        return {}
    catalog = source.policy.catalog
    reqs = source.conformance.requirements
    asks: dict[str, JSON] = {
        r.requirement_id: catalog.assessor[r.requirement_id]
        for r in reqs
        if r.status is Status.SATISFIED and r.requirement_id in catalog.assessor
    }
    hints: dict[str, JSON] = {
        r.requirement_id: h.to_json()
        for r in reqs
        if (h := catalog.hints(r.requirement_id)) is not None
    }
    return {
        **({"assessor_will_ask": asks} if asks else {}),
        **({"product_assessment": hints} if hints else {}),
    }


def _gate(source: Source) -> JSON:
    g = source.gate
    if g is None:
        return None
    return {
        "entry": g.seq,
        "hash": g.hash,
        "passed": g.passed,
        "recorded_at": format_time(g.recorded_at),
        "recorded_by": g.recorded_by,
        "reproduced": not g.differences,
        "differences": list(g.differences),
    }


def _ledger(source: Source) -> JSON:
    if not source.entries:
        return None
    last = source.entries[-1]
    return {"entries": len(source.entries), "last_seq": last.seq, "last_hash": last.hash}
