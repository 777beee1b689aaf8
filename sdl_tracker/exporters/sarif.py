"""`findings.sarif`: every finding of every tool behind the verdicts, in one SARIF 2.1.0 log.

One run per evidence entry (chosen by `Source.evidence`; one per threat-model file): static
analysis (the stored bandit JSON or SARIF report, re-read), the dependency audit
(`details.vulnerabilities`, each at the manifest line that declares the package; VEX
`not_affected` ones as suppressed results), the secret scan (`secrets.json`: path, line and type
— it never holds a secret value) and open threats (at the model file, on the threat's line).
Code snippets are left out, and so is the value bandit's B105-B107 messages quote (a hard-coded
password is a secret too); the original reports are in the package's `artifacts/`.
A run whose evidence is incomplete or whose report cannot be read says so in its invocation.

Laid out for GitHub code scanning: every result has a file and a line, every rule a short and
full description, help and tags, `partialFingerprints` come from what a finding is (stable from
run to run), each run has its own `automationDetails.id` category, and a log that would hold
more runs than GitHub takes (20) has runs of one tool merged (`sarifruns`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.errors import InputError
from sdl_tracker.exporters import sarifruns
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
    runs: list[dict[str, JSON]] = []
    categories: set[str] = set()
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
            run["automationDetails"] = {"id": _category(kind, record, run, categories) + "/"}
            runs.append(run)
    return {"$schema": SCHEMA, "version": VERSION, "runs": list[JSON](sarifruns.limit(runs))}


def _category(kind: str, record: Record, run: dict[str, JSON], taken: set[str]) -> str:
    """`sdl-tracker/<kind>/<tool or model file>`: one category per run, as GitHub requires."""
    model = record.statement.predicate.details.get("model")
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    name = driver.get("name") if isinstance(driver, dict) else None
    subject = model if kind == "threat_model" and isinstance(model, str) and model else name
    category = f"sdl-tracker/{kind.replace('_', '-')}/{_slug(str(subject or kind))}"
    if category in taken:
        category = f"{category}-entry-{record.seq}"
    taken.add(category)
    return category


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._/-" else "-" for c in text).strip("/") or "run"


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
    advisories: dict[str, tuple[list[str], str, str, list[str]]] = {}
    scores: dict[str, list[tuple[float, str, str]]] = {}
    unknown: dict[str, str] = {}
    results: list[JSON] = []
    seen: dict[str, int] = {}
    fallback = _manifest(source, record)
    for v in _items(p.details.get("vulnerabilities")):
        vid, package, version = _str(v, "id"), _str(v, "package"), _str(v, "version")
        fixes = [str(f) for f in v.get("fix_versions") or [] if isinstance(f, str)]
        aliases = [a for a in v.get("aliases") or [] if isinstance(a, str)]
        fixed = f" (fixed in {', '.join(fixes)})" if fixes else " (no fix yet)"
        declared = v.get("declared")
        if isinstance(declared, dict) and _str(declared, "path"):
            line = declared.get("line")
            path = _str(declared, "path")
            place = f"declared in {path}"
            line = line if isinstance(line, int) and line > 0 else 1
        else:
            path, line, place = fallback
        text = f"{package} {version} is affected by {vid}{fixed}; {place}"
        advisories.setdefault(vid, (aliases, _str(v, "description"), package, fixes))
        score = _cvss(v.get("severity"))
        if isinstance(score, tuple):
            scores.setdefault(vid, []).append(score)
        else:
            unknown.setdefault(vid, score)
        result: dict[str, JSON] = {
            "ruleId": vid,
            "level": "error",
            "message": {"text": text},
            "locations": [_physical(path, line)],
            "partialFingerprints": sarif_format.fingerprint(seen, vid, path, package, version),
            "properties": {
                "aliases": list[JSON](aliases),
                "package": package,
                "version": version,
                "cvss": v.get("severity") if isinstance(v.get("severity"), dict) else None,
            },
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
    rules = [
        _advisory(vid, *about, _rated(scores.get(vid), unknown.get(vid, "")))
        for vid, about in advisories.items()
    ]
    return _run(record, rules, results, skipped)


def _cvss(severity: object) -> tuple[float, str, str] | str:
    """(score, vector, source) of a recorded severity, else why there is none."""
    if not isinstance(severity, dict):
        return "no severity was recorded with this evidence"
    score, vector, source = severity.get("score"), severity.get("vector"), severity.get("source")
    if isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 10:
        return float(score), str(vector or ""), str(source or "")
    return str(source or "no CVSS score is known")


def _rated(scores: list[tuple[float, str, str]] | None, why: str) -> tuple[str, str]:
    """`security-severity` (the highest CVSS base score among the rule's results, "" when
    none is known) and the sentence the rule's help gives about it."""
    if not scores:
        return "", f"Severity: unknown ({why}); no score is given."
    score, vector, source = max(scores, key=lambda s: s[0])
    return f"{score:.1f}", f"Severity: CVSS base score {score:.1f} ({vector}), from {source}."


def _manifest(source: Source, record: Record) -> tuple[str, int, str]:
    """Where a vulnerable package is shown when no manifest line is recorded for it: the first
    file the audit covered, else the SBOM's source, else the package's SBOM."""
    for covered in record.statement.predicate.covers:
        if covered not in ("", "."):
            return covered, 1, f"audited from {covered}"
    for sbom in reversed(source.evidence("sbom")):
        for covered in sbom.statement.predicate.covers:
            if covered not in ("", "."):
                return covered, 1, f"listed in the SBOM made from {covered}"
    return "sbom.cdx.json", 1, "installed in the audited environment (see the SBOM)"


def _advisory(
    vid: str,
    aliases: list[str],
    description: str,
    package: str,
    fixes: list[str],
    rated: tuple[str, str],
) -> JSON:
    url = f"https://osv.dev/vulnerability/{quote(vid)}"
    summary = " ".join(description.split()) or f"Known vulnerability {vid} in {package}"
    also = f" (also {', '.join(aliases)})" if aliases else ""
    fix = (
        f"Upgrade {package} to {' or '.join(fixes)} or later"
        if fixes
        else f"No fixed version of {package} is known: remove it, or record a VEX statement"
    )
    markdown = (
        f"**{vid}**{also}: {summary}\n\n{fix}; a VEX `not_affected` statement records why a "
        f"vulnerable version is not exploitable in this product.\n\n{rated[1]}\n\n"
        f"Advisory: [{vid}]({url})"
    )
    return sarif_format.descriptor(
        vid,
        name=f"{package} {vid}",
        short=f"{vid}: {summary}",
        full=f"{vid}{also} in {package}: {summary}",
        help_markdown=markdown,
        help_uri=url,
        severity=rated[0],
        tags=("dependency", "vulnerability", vid, *aliases),
    )


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
    seen: dict[str, int] = {}
    for f in _items(doc.get("findings") if isinstance(doc, dict) else None):
        kind = _str(f, "type") or "secret"
        if kind not in types:
            types[kind] = sarif_format.descriptor(
                kind,
                name=kind,
                short=f"Possible secret: {kind}",
                full=f"detect-secrets found what looks like a {kind} in a file of the repository.",
                help_markdown=f"**Possible secret ({kind})**\n\nRemove it from the code and "
                "rotate it (it stays in the git history), or, if it is not a secret, audit it "
                "into the baseline (`detect-secrets audit .secrets.baseline`).",
                tags=("secret", "external/cwe/cwe-798"),
            )
        line = f["line"] if isinstance(f.get("line"), int) else 1
        path = _str(f, "path")
        results.append(
            {
                "ruleId": kind,
                "level": "error",
                "message": {
                    "text": f"possible secret ({kind}): remove and rotate it, or audit "
                    "it into the baseline if it is a false positive"
                },
                "locations": [_physical(path, max(int(line), 1))],
                "partialFingerprints": sarif_format.fingerprint(seen, kind, path, str(line)),
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
    normalised = source.artifacts(record, ".normalised.json")
    threats: list[dict[str, Any]] = []
    doc: object = None
    if normalised:
        try:
            doc = json.loads(normalised[0][1])
            threats = _items(doc.get("threats") if isinstance(doc, dict) else None)
        except ValueError:
            threats = []
    model_path = str(p.details.get("model") or "")
    if not model_path and isinstance(doc, dict):
        model_path = _str(doc, "path")
    if not model_path and normalised:
        model_path = normalised[0][0].name.removesuffix(".normalised.json")
    lines = _model_lines(source, record, normalised[0][0].name if normalised else "")
    rules: dict[str, JSON] = {}
    results: list[JSON] = []
    seen: dict[str, int] = {}
    for t in threats:
        tid = _str(t, "id")
        if tid not in open_ids:
            continue
        title, category = _str(t, "title"), _str(t, "category")
        if tid not in rules:
            rules[tid] = _threat_rule(t, model_path)
        targets = ", ".join(str(x) for x in t.get("targets") or [])
        results.append(
            {
                "ruleId": tid,
                "level": "warning",
                "message": {
                    "text": f"open threat {tid} ({category}): {title}"
                    + (f"; targets {targets}" if targets else "")
                    + ": mitigate it or record an accepted risk"
                },
                "locations": [_physical(model_path or ".", _line_of(lines, tid, title))],
                "partialFingerprints": sarif_format.fingerprint(seen, tid, model_path, title),
            }
        )
    missing = [] if normalised else ["no normalised threat model was stored with this evidence"]
    return _run(record, list(rules.values()), results, missing)


_IMPACT = {"critical": "9.5", "high": "8.0", "elevated": "7.0", "medium": "5.0", "low": "2.0"}


def _threat_rule(t: dict[str, Any], model: str) -> JSON:
    tid, title, category = _str(t, "id"), _str(t, "title"), _str(t, "category")
    description = " ".join(_str(t, "description").split())
    impact, likelihood = _str(t, "impact").lower(), _str(t, "likelihood").lower()
    rated = ", ".join(f"{k} {v}" for k, v in (("impact", impact), ("likelihood", likelihood)) if v)
    markdown = (
        f"**{title or tid}** ({category.replace('_', ' ')}"
        + (f"; {rated}" if rated else "")
        + f")\n\n{description + chr(10) + chr(10) if description else ''}"
        f"Open in the threat model `{model}`: mitigate it (a mitigation that names the threat) "
        "or record an accepted risk with its rationale and approver."
    )
    return sarif_format.descriptor(
        tid,
        name=title or tid,
        short=f"Open threat: {title or tid}",
        full=f"{title or tid} ({category.replace('_', ' ')})"
        + (f": {description}" if description else ""),
        help_markdown=markdown,
        severity=_IMPACT.get(impact, ""),
        tags=("threat-model", f"stride/{category}" if category else "threat-model"),
    )


def _model_lines(source: Source, record: Record, normalised: str) -> list[str]:
    """The model file's lines, from the original stored beside the normalised JSON."""
    original = normalised.removesuffix(".normalised.json")
    for artifact, data in source.artifacts(record):
        if original and artifact.name == original:
            return data.decode("utf-8", errors="replace").splitlines()
    return []


def _line_of(lines: list[str], tid: str, title: str) -> int:
    """The line that names the threat: its id, else its title, else the first line."""
    for wanted in (tid, title):
        if not wanted:
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(wanted)}(?![\w-])")
        for n, text in enumerate(lines, 1):
            if pattern.search(text):
                return n
    return 1


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


def _physical(path: str, line: int) -> JSON:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line},
        }
    }


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value)
