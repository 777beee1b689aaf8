"""`oscal/assessment-results.json` and `oscal/assessment-plan.json`: the verdicts as NIST OSCAL
assessment results (1.0.6), and the policy as the assessment plan they import.

The plan has one *activity* per requirement: how the policy judges it (the rule in words, the
evidence kinds), related to the requirement as its control. It imports no SSP (there is none for
a product's development process): `import-ssp` points at a back-matter resource naming the
product and `../conformance.json`, which holds the policy and its digest.

One result for the release; one *observation* per ledger entry the verdicts considered (its
kind, result, hash and artifacts as `relevant-evidence`, relative to the evidence package) and
one *finding* per requirement (target `objective-id` = the requirement id). `satisfied` only for
satisfied and not-applicable requirements (the latter with reason `other`); waived ones are
`not-satisfied` with reason `other` and the waiver in the remarks. UUIDs are version-5, derived
from the content, so the same release gives the same document. Under a framework that asks for
technical documentation (the CRA), the results' back-matter holds one resource per part of it
(Annex VII), linking the artifacts and statements of the ledger entries behind that part.
"""

from __future__ import annotations

import json
import uuid

from sdl_tracker import __version__
from sdl_tracker.conformance.model import Conformance, EvidenceRef, RequirementResult, Status
from sdl_tracker.exporters import documentation
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import JSON, Provenance, format_time

NAME = "oscal"
OSCAL_VERSION = "1.0.6"
NS = "https://sdl-tracker.dev/ns/oscal"
_UUID_NS = uuid.UUID("6f1c1a52-7d0e-5b8e-9a43-3f7f4b1f2c10")
_EXAMINED = ("documents", "issues")
PLAN = "assessment-plan.json"
"""The plan's file name, beside assessment-results.json in the package's `oscal/`."""


def render(report: Report) -> str:
    return view(Source(conformance=report.conformance))


def view(source: Source) -> str:
    dumped = json.dumps(document(source), indent=2, sort_keys=True, ensure_ascii=False)
    return safe_text.json_document(dumped) + "\n"


def document(source: Source) -> dict[str, JSON]:
    conf = source.conformance
    label = conf.release or conf.commit[:12]
    seed = f"{conf.commit}|{conf.release}|{conf.policy_digest}|{format_time(conf.evaluated_at)}"
    refs = _refs(conf.requirements)
    observations = [_observation(source, ref, seed) for ref in refs]
    times = [ref.recorded_at for ref in refs] + [conf.evaluated_at]
    result: dict[str, JSON] = {
        "uuid": _uuid(seed, "result"),
        "title": f"{_framework(source)} conformance of {label}",
        "description": (
            f"sdl-tracker evaluated commit {conf.commit} against policy {conf.policy} "
            f"(sha256 {conf.policy_digest}) at {format_time(conf.evaluated_at)}; gate "
            f"{'passed' if conf.passed else 'not passed'}."
        ),
        "start": format_time(min(times)),
        "end": format_time(conf.evaluated_at),
        "props": [
            _prop("commit", conf.commit),
            _prop("policy", conf.policy),
            _prop("policy-digest", conf.policy_digest),
            *[
                _prop(f"maturity-{p.practice}", f"ML{p.maturity}" if p.maturity else "none")
                for p in conf.practices
            ],
        ],
        "reviewed-controls": {
            "description": f"the {len(conf.requirements)} requirements of {_catalog(conf)}",
            "control-selections": [{"include-all": {}}],
        },
        "findings": [_finding(r, seed) for r in conf.requirements],
        "remarks": "Maturity levels are indicative: the tool shows the evidence, the assessor "
        "decides.",
    }
    if observations:
        result["observations"] = observations
    metadata: dict[str, JSON] = {
        "title": f"sdl-tracker assessment results: {label}",
        "last-modified": format_time(conf.evaluated_at),
        "version": _line(label),
        "oscal-version": OSCAL_VERSION,
        "props": [_prop("generator", f"sdl-tracker {__version__}")],
    }
    body: dict[str, JSON] = {
        "uuid": _uuid(seed, "assessment-results"),
        "metadata": metadata,
        "import-ap": {
            "href": PLAN,
            "remarks": "The assessment plan is the sdl-tracker policy, one activity per "
            "requirement; ../conformance.json holds the policy (policy_document) with its "
            "digest.",
        },
        "results": [result],
    }
    parts = documentation.index(source)
    if parts:
        body["back-matter"] = {"resources": [_resource(p, seed) for p in parts]}
    return {"assessment-results": body}


def _framework(source: Source) -> str:
    """The framework's name for titles: `IEC 62443-4-1`, `Regulation (EU) 2024/2847 (Cyber
    Resilience Act)` (the catalogue's title up to its first colon)."""
    if source.policy is not None:
        return source.policy.catalog.title.split(":")[0]
    return "IEC 62443-4-1"


def _catalog(conf: Conformance) -> str:
    return "IEC 62443-4-1:2018" if conf.catalog == "iec62443-4-1:2018" else conf.catalog


def _resource(part: documentation.Part, seed: str) -> JSON:
    """One part of the technical documentation and the ledger entries behind it."""
    links: list[JSON] = []
    for r in part.entries:
        links += [{"href": f"../artifacts/{a.sha256}"} for a in r.statement.artifacts]
        links.append({"href": f"../statements/{r.seq}.intoto.json"})
    entries = ", ".join(
        f"entry {r.seq} ({r.statement.predicate.kind}"
        + ("" if r.seq in part.counted else ", not counted by any verdict")
        + ")"
        for r in part.entries
    )
    resource: dict[str, JSON] = {
        "uuid": _uuid(seed, f"documentation:{part.item.id}"),
        "title": f"Technical documentation: {part.item.title}",
        "description": entries or part.gap,
        "props": [
            _prop("documentation-item", part.item.id),
            _prop("evidence-kinds", " ".join(part.item.evidence)),
            _prop("documentation-status", "gap" if part.gap else "present"),
        ],
    }
    if links:
        resource["rlinks"] = links
    return resource


def plan_view(source: Source) -> str:
    return json.dumps(plan(source), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def plan(source: Source) -> dict[str, JSON]:
    """The policy as an OSCAL assessment plan: one activity per requirement."""
    conf = source.conformance
    label = conf.release or conf.commit[:12]
    seed = f"plan|{conf.policy}|{conf.policy_digest}|{conf.commit}|{conf.release}"
    context = _uuid(seed, "resource:conformance")
    activities: list[JSON] = [
        {
            "uuid": _uuid(seed, f"activity:{r.requirement_id}"),
            "title": f"{r.requirement_id} {r.title}",
            "description": f"Judge {r.requirement_id} ({r.title}) by the policy rule: {r.rule}.",
            "props": [
                _prop("requirement", r.requirement_id),
                _prop("practice", r.practice),
                _prop("rule", r.rule),
            ],
            "related-controls": {
                "control-selections": [{"include-controls": [{"control-id": r.requirement_id}]}]
            },
        }
        for r in conf.requirements
    ]
    body: dict[str, JSON] = {
        "uuid": _uuid(seed, "assessment-plan"),
        "metadata": {
            "title": f"sdl-tracker assessment plan: {label}",
            "last-modified": format_time(conf.evaluated_at),
            "version": _line(label),
            "oscal-version": OSCAL_VERSION,
            "props": [
                _prop("generator", f"sdl-tracker {__version__}"),
                _prop("policy", conf.policy),
                _prop("policy-digest", conf.policy_digest),
            ],
        },
        "import-ssp": {
            "href": f"#{context}",
            "remarks": "No OSCAL system security plan exists for a product's development "
            "process: the product and its policy are in the referenced conformance.json.",
        },
        "reviewed-controls": {
            "description": f"the {len(conf.requirements)} requirements of {_catalog(conf)} "
            f"the policy {conf.policy} judges",
            "control-selections": [{"include-all": {}}],
        },
        "terms-and-conditions": {
            "parts": [
                {
                    "name": "method",
                    "title": "How requirements are judged",
                    "prose": "Every requirement is judged by its policy rule from evidence in "
                    "the hash-chained ledger (tool output as in-toto statements, reviews, "
                    "waivers). Maturity levels are indicative: the assessor decides.",
                }
            ]
        },
        "back-matter": {
            "resources": [
                {
                    "uuid": context,
                    "title": f"Conformance of {label}: the product, the policy and its digest",
                    "rlinks": [{"href": "../conformance.json", "media-type": "application/json"}],
                }
            ]
        },
    }
    if activities:
        body["local-definitions"] = {"activities": activities}
    return {"assessment-plan": body}


def _refs(requirements: tuple[RequirementResult, ...]) -> list[EvidenceRef]:
    """Each entry once (the counted reference when any requirement counted it), by seq."""
    found: dict[int, EvidenceRef] = {}
    for r in requirements:
        for ref in r.evidence:
            if ref.seq not in found or (ref.counted and not found[ref.seq].counted):
                found[ref.seq] = ref
    return [found[s] for s in sorted(found)]


def _observation(source: Source, ref: EvidenceRef, seed: str) -> JSON:
    record = source.record(ref.seq)
    collector = record.statement.predicate.collector if record else ""
    summary = record.statement.predicate.result.summary if record else ref.why
    obs: dict[str, JSON] = {
        "uuid": _uuid(seed, f"observation:{ref.seq}:{ref.hash}"),
        "title": f"ledger entry {ref.seq}: {ref.kind}",
        "description": summary or ref.kind,
        "props": [
            _prop("ledger-entry", str(ref.seq)),
            _prop("evidence-kind", ref.kind),
            _prop("result", ref.result),
            _prop("provenance", ref.provenance.value),
            *([_prop("entry-hash", ref.hash)] if ref.hash else []),
            *([_prop("commit", ref.commit)] if ref.commit else []),
        ],
        "methods": [_method(ref, collector if record else None)],
        "collected": format_time(ref.recorded_at),
        "remarks": ref.why or ref.kind,
    }
    evidence: list[JSON] = [
        {"href": f"../artifacts/{a.sha256}", "description": f"{a.name} (sha256 {a.sha256})"}
        for a in ref.artifacts
    ]
    if record is not None:
        evidence.append(
            {
                "href": f"../statements/{ref.seq}.intoto.json",
                "description": f"in-toto statement of ledger entry {ref.seq}",
            }
        )
    if evidence:
        obs["relevant-evidence"] = evidence
    return obs


def _method(ref: EvidenceRef, collector: str | None) -> str:
    """INTERVIEW for a person's statement, EXAMINE for a report or document read, TEST for a
    tool run here."""
    if ref.provenance in (Provenance.ATTESTED, Provenance.SIGNED):
        return "INTERVIEW"
    if ref.provenance is Provenance.INGESTED or collector is None or collector in _EXAMINED:
        return "EXAMINE"
    return "TEST"


def _finding(r: RequirementResult, seed: str) -> JSON:
    if r.status is Status.SATISFIED:
        state, reason = "satisfied", "pass"
    elif r.status is Status.NOT_APPLICABLE:
        state, reason = "satisfied", "other"
    elif r.status is Status.WAIVED:
        state, reason = "not-satisfied", "other"
    else:
        state, reason = "not-satisfied", "fail"
    remarks = [f"status: {r.status.value}", f"rule: {r.rule}"]
    for w in r.waivers:
        remarks.append(
            f"waiver (entry {w.seq}, {w.state} until "
            f"{format_time(w.expires)}, approved by {w.approver}): {w.reason}"
        )
    if r.justification:
        remarks.append(f"not applicable: {r.justification}")
    if r.action:
        remarks.append(f"next step: {r.action}")
    finding: dict[str, JSON] = {
        "uuid": _uuid(seed, f"finding:{r.requirement_id}"),
        "title": f"{r.requirement_id} {r.title}",
        "description": r.reason or r.status.value,
        "props": [_prop("status", r.status.value), _prop("practice", r.practice)],
        "target": {
            "type": "objective-id",
            "target-id": r.requirement_id,
            "title": r.title,
            "status": {"state": state, "reason": reason, "remarks": "\n".join(remarks)},
        },
    }
    seqs = {e.seq: e.hash for e in r.evidence}
    related: list[JSON] = [
        {"observation-uuid": _uuid(seed, f"observation:{seq}:{h}")} for seq, h in seqs.items()
    ]
    if related:
        finding["related-observations"] = related
    return finding


def _prop(name: str, value: str) -> JSON:
    return {"name": name, "ns": NS, "value": _line(value)}


def _line(text: str) -> str:
    """OSCAL strings may not be empty or start/end with whitespace, nor span lines."""
    return " ".join(text.split()) or "-"


def _uuid(seed: str, what: str) -> str:
    return str(uuid.uuid5(_UUID_NS, f"{seed}|{what}"))
