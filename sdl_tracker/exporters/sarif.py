"""`findings.sarif`: every finding of every tool behind the verdicts, in one SARIF 2.1.0 log.

One run per evidence entry (chosen by `Source.evidence`): static analysis (the stored bandit JSON
or SARIF report, re-read), the dependency audit (`details.vulnerabilities`; VEX `not_affected`
ones as suppressed results), the secret scan (`secrets.json`: path, line and type — it never
holds a secret value) and open threats of the threat models. Code snippets are left out, and so
is the value bandit's B105-B107 messages quote (a hard-coded password is a secret too); the
original reports are in the package's `artifacts/`.
A run whose evidence is incomplete or whose report cannot be read says so in its invocation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.errors import InputError
from sdl_tracker.exporters.base import Report
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import sarif as sarif_format
from sdl_tracker.formats import scanreport
from sdl_tracker.formats import text as safe_text
from sdl_tracker.formats.findings import Finding
from sdl_tracker.models import JSON, ResultStatus

NAME = "sarif"
VERSION = "2.1.0"
SCHEMA = sarif_format.SCHEMA
_PASSWORD_RULES = ("B105", "B106", "B107")  # bandit: hardcoded_password_string/funcarg/default


def render(report: Report) -> str:
    return view(Source(conformance=report.conformance))


def view(source: Source) -> str:
    dumped = json.dumps(log(source), indent=2, sort_keys=True, ensure_ascii=False)
    return safe_text.json_document(dumped) + "\n"


def log(source: Source) -> dict[str, JSON]:
    runs: list[JSON] = []
    for kind, make in _RUNS:
        for record in source.evidence(kind):
            run = make(source, record)
            run["properties"] = {
                "sdl-tracker": {
                    "entry": record.seq,
                    "kind": kind,
                    "status": record.statement.predicate.result.status.value,
                    "summary": record.statement.predicate.result.summary,
                    "artifacts": [a.sha256 for a in record.statement.artifacts],
                }
            }
            run["automationDetails"] = {"id": f"sdl-tracker/{kind}/entry-{record.seq}"}
            runs.append(run)
    return {"$schema": SCHEMA, "version": VERSION, "runs": runs}


def _sast(source: Source, record: Record) -> dict[str, JSON]:
    reports = source.artifacts(record, ".sarif", ".sarif.json") or source.artifacts(record, ".json")
    if not reports:
        return _empty(record, "no report was stored with this evidence")
    artifact, data = reports[0]
    try:
        parsed = scanreport.parse(data, f"artifact {artifact.name}")
    except InputError as e:
        return _empty(record, f"the stored report cannot be read: {e}")
    clean = replace(parsed, findings=tuple(_withheld(f) for f in parsed.findings))
    runs = sarif_format.write(clean)["runs"]
    assert isinstance(runs, list) and isinstance(runs[0], dict)
    run = runs[0]
    if record.statement.predicate.result.status is ResultStatus.INCOMPLETE:
        run["invocations"] = [_invocation(False, record.statement.predicate.result.summary)]
    return run


def _withheld(f: Finding) -> Finding:
    """No code snippet; no value in bandit's hard-coded password messages."""
    message = f.message
    if f.rule in _PASSWORD_RULES:
        message = f"{message.partition(':')[0]} (the value is not copied here)"
    return replace(f, snippet="", message=message)


def _deps(source: Source, record: Record) -> dict[str, JSON]:
    p = record.statement.predicate
    rules: dict[str, JSON] = {}
    results: list[JSON] = []
    for v in _items(p.details.get("vulnerabilities")):
        vid, package, version = _str(v, "id"), _str(v, "package"), _str(v, "version")
        fixes = [str(f) for f in v.get("fix_versions") or [] if isinstance(f, str)]
        text = f"{package} {version} is affected by {vid}" + (
            f" (fixed in {', '.join(fixes)})" if fixes else " (no fix yet)"
        )
        rules.setdefault(
            vid, _rule(vid, _str(v, "description"), f"https://osv.dev/vulnerability/{quote(vid)}")
        )
        result: dict[str, JSON] = {
            "ruleId": vid,
            "level": "error",
            "message": {"text": text},
            "locations": [_logical(f"{package}=={version}")],
            "properties": {"aliases": [a for a in v.get("aliases") or [] if isinstance(a, str)]},
        }
        if v.get("status") == "not_affected":
            result["level"] = "note"
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"VEX not_affected ({_str(v, 'vex')}): "
                    f"{_str(v, 'justification')}",
                }
            ]
        results.append(result)
    skipped = [
        f"{_str(s, 'name')} {_str(s, 'version')} was not audited: {_str(s, 'reason')}"
        for s in _items(p.details.get("skipped"))
    ]
    return _run(record, list(rules.values()), results, skipped)


def _secrets(source: Source, record: Record) -> dict[str, JSON]:
    reports = source.artifacts(record, ".json")
    if not reports:
        return _empty(record, "no report was stored with this evidence")
    try:
        doc = json.loads(reports[0][1])
    except ValueError as e:
        return _empty(record, f"the stored report is not JSON: {e}")
    results: list[JSON] = []
    types: dict[str, JSON] = {}
    for f in _items(doc.get("findings") if isinstance(doc, dict) else None):
        kind = _str(f, "type") or "secret"
        types.setdefault(kind, _rule(kind, f"detect-secrets: {kind}", ""))
        line = f["line"] if isinstance(f.get("line"), int) else 1
        results.append(
            {
                "ruleId": kind,
                "level": "error",
                "message": {
                    "text": f"possible secret ({kind}): remove and rotate it, or audit "
                    "it into the baseline if it is a false positive"
                },
                "locations": [_physical(_str(f, "path"), max(int(line), 1))],
            }
        )
    unreadable = doc.get("unreadable") if isinstance(doc, dict) else None
    notes = [
        f"{u}: could not be decoded, not scanned" for u in unreadable or [] if isinstance(u, str)
    ]
    return _run(record, list(types.values()), results, notes)


def _threats(source: Source, record: Record) -> dict[str, JSON]:
    p = record.statement.predicate
    listed = p.details.get("open")
    open_ids = {t for t in listed if isinstance(t, str)} if isinstance(listed, list) else set()
    model_path = str(p.details.get("model") or "")
    normalised = source.artifacts(record, ".normalised.json")
    threats: list[dict[str, Any]] = []
    if normalised:
        try:
            doc = json.loads(normalised[0][1])
            threats = _items(doc.get("threats") if isinstance(doc, dict) else None)
        except ValueError:
            threats = []
    rules: dict[str, JSON] = {}
    results: list[JSON] = []
    for t in threats:
        tid = _str(t, "id")
        if tid not in open_ids:
            continue
        rules.setdefault(tid, _rule(tid, _str(t, "title"), ""))
        targets = ", ".join(str(x) for x in t.get("targets") or [])
        results.append(
            {
                "ruleId": tid,
                "level": "warning",
                "message": {
                    "text": f"open threat {tid} ({_str(t, 'category')}): {_str(t, 'title')}"
                    + (f"; targets {targets}" if targets else "")
                    + ": mitigate it or record an accepted risk"
                },
                "locations": [_physical(model_path, 1)] if model_path else [],
            }
        )
    missing = [] if normalised else ["no normalised threat model was stored with this evidence"]
    return _run(record, list(rules.values()), results, missing)


_RUNS: tuple[tuple[str, Callable[[Source, Record], dict[str, JSON]]], ...] = (
    ("sast", _sast),
    ("dependency_audit", _deps),
    ("secret_scan", _secrets),
    ("threat_model", _threats),
)


def _run(
    record: Record, rules: list[JSON], results: list[JSON], notes: list[str]
) -> dict[str, JSON]:
    p = record.statement.predicate
    complete = p.result.status is not ResultStatus.INCOMPLETE
    if not complete:
        notes = [p.result.summary, *notes]
    driver: dict[str, JSON] = {"name": p.tool.name, "rules": rules}
    if p.tool.version not in ("", "unknown", "missing"):
        driver["version"] = p.tool.version
    return {
        "tool": {"driver": driver},
        "invocations": [_invocation(complete, *notes)],
        "results": results,
    }


def _empty(record: Record, why: str) -> dict[str, JSON]:
    run = _run(record, [], [], [why])
    run["invocations"] = [_invocation(False, why)]
    return run


def _invocation(successful: bool, *notes: str) -> JSON:
    inv: dict[str, JSON] = {"executionSuccessful": successful}
    if notes:
        inv["toolExecutionNotifications"] = [
            {"level": "warning" if successful else "error", "message": {"text": n}} for n in notes
        ]
    return inv


def _rule(rid: str, description: str, help_uri: str) -> JSON:
    rule: dict[str, JSON] = {"id": rid}
    if description.strip():
        rule["shortDescription"] = {"text": " ".join(description.split())[:1000]}
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _physical(path: str, line: int) -> JSON:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line},
        }
    }


def _logical(name: str) -> JSON:
    return {"logicalLocations": [{"name": name, "kind": "module"}]}


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value)
