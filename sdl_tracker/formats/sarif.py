"""SARIF 2.1.0 for the sast collector: read any tool's log, write bandit's findings as one.

Reading: a result counts as a finding when its `kind` is `fail` (the default), it is not
suppressed (a suppression with no status or status `accepted`) and not `baselineState: absent`.
Severity comes from `properties.security-severity` (result, else rule: >= 7.0 high, >= 4.0
medium, else low), else from `level` (result, else the rule's default, else `warning`):
error -> high, warning -> medium, note -> low, none -> not a finding. A run that did not
execute successfully, reported an error notification, or has no `results` is a scan error
(how the SARIF TC says a consumer tells a failed run: oasis-tcs/sarif-spec#398).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from sdl_tracker.formats.findings import (
    Finding,
    Level,
    Report,
    ScanError,
    fail,
    integer,
    items,
    obj,
    relpath,
    text,
)
from sdl_tracker.models import JSON, Tool

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": Level.HIGH, "warning": Level.MEDIUM, "note": Level.LOW}
_KINDS = ("notApplicable", "pass", "fail", "review", "open", "informational")
_PRECISION = {"very-high": Level.HIGH, "high": Level.HIGH, "medium": Level.MEDIUM, "low": Level.LOW}
_SARIF_LEVEL = {Level.HIGH: "error", Level.MEDIUM: "warning", Level.LOW: "note"}
_SECURITY_SEVERITY = {Level.HIGH: "8.0", Level.MEDIUM: "5.0", Level.LOW: "2.0"}
_PRECISION_OF = {Level.HIGH: "high", Level.MEDIUM: "medium", Level.LOW: "low"}
_QUOTING = ("B105", "B106", "B107")  # bandit's hard-coded password messages quote the value


def read(doc: Mapping[str, Any], source: str) -> Report:
    """A SARIF 2.1.0 log as a Report (every run's findings, artifacts and errors together)."""
    if doc.get("version") != "2.1.0":
        fail(source, "version", '"2.1.0" (SARIF 2.1.0)', doc.get("version"))
    runs = items(doc["runs"], source, "runs")
    if not runs:
        fail(source, "runs", "at least one run", runs)
    names: list[str] = []
    versions: list[str] = []
    findings: list[Finding] = []
    errors: list[ScanError] = []
    files = 0
    for i, raw in enumerate(runs):
        at = f"runs[{i}]"
        run = obj(raw, source, at)
        driver = obj(
            obj(run.get("tool"), source, f"{at}.tool").get("driver"), source, f"{at}.tool.driver"
        )
        name = text(driver.get("name"), source, f"{at}.tool.driver.name")
        names.append(name)
        version = driver.get("semanticVersion") or driver.get("version") or "unknown"
        versions.append(text(version, source, f"{at}.tool.driver.version"))
        rules = items(driver.get("rules", []), source, f"{at}.tool.driver.rules")
        results = run.get("results")
        if results is None:
            errors.append(ScanError("", f"{name}: run {i} has no results (the tool did not run)"))
            results = []
        for j, result in enumerate(items(results, source, f"{at}.results")):
            found = _finding(obj(result, source, f"{at}.results[{j}]"), rules, source, at, j)
            if found is not None:
                findings.append(found)
        errors.extend(_errors(run, name, source, at))
        files += len(items(run.get("artifacts", []), source, f"{at}.artifacts"))
    if not files:
        files = len({f.path for f in findings})
    return Report(
        format="sarif",
        tool=Tool(" + ".join(dict.fromkeys(names)), " + ".join(dict.fromkeys(versions))),
        findings=tuple(findings),
        files_scanned=files,
        errors=tuple(errors),
    )


def _finding(
    result: Mapping[str, Any], rules: list[Any], source: str, run_at: str, j: int
) -> Finding | None:
    at = f"{run_at}.results[{j}]"
    rule, rule_at = _rule(result, rules, source, run_at, at)
    kind = result.get("kind", "fail")
    if kind not in _KINDS:
        fail(source, f"{at}.kind", f"one of {', '.join(_KINDS)}", kind)
    suppressions = items(result.get("suppressions", []), source, f"{at}.suppressions")
    suppressed = any(
        obj(s, source, f"{at}.suppressions[{k}]").get("status", "accepted") == "accepted"
        for k, s in enumerate(suppressions)
    )
    if kind != "fail" or suppressed or result.get("baselineState") == "absent":
        return None
    severity = _severity(result, rule, source, at, rule_at)
    if severity is None:
        return None
    message = obj(result.get("message", {}), source, f"{at}.message")
    path, line = _location(result, source, at)
    rule_id = result.get("ruleId") or rule.get("id") or ""
    return Finding(
        path=path,
        line=line,
        rule=text(rule_id, source, f"{at}.ruleId"),
        severity=severity,
        confidence=_confidence(result, rule),
        message=text(message.get("text", ""), source, f"{at}.message.text"),
        rule_name=str(rule.get("name", "")),
        help_uri=str(rule.get("helpUri", "")),
    )


def _rule(
    result: Mapping[str, Any], rules: list[Any], source: str, run_at: str, at: str
) -> tuple[Mapping[str, Any], str]:
    """The rule (reportingDescriptor) a result refers to, by `ruleIndex` or `ruleId`."""
    index = result.get("ruleIndex")
    if index is not None:
        index = integer(index, source, f"{at}.ruleIndex")
        if not 0 <= index < len(rules):
            fail(source, f"{at}.ruleIndex", f"an index into {len(rules)} rules", index)
    else:
        rule_id = result.get("ruleId")
        ids = [r.get("id") if isinstance(r, dict) else None for r in rules]
        index = ids.index(rule_id) if rule_id is not None and rule_id in ids else None
    if index is None:
        return {}, ""
    rule_at = f"{run_at}.tool.driver.rules[{index}]"
    return obj(rules[index], source, rule_at), rule_at


def _severity(
    result: Mapping[str, Any], rule: Mapping[str, Any], source: str, at: str, rule_at: str
) -> Level | None:
    for props, where in ((result.get("properties"), at), (rule.get("properties"), rule_at)):
        if isinstance(props, dict) and "security-severity" in props:
            raw = props["security-severity"]
            place = f"{where}.properties.security-severity"
            try:
                score = float(raw)
            except (TypeError, ValueError):
                fail(source, place, "a score from 0.0 to 10.0 (as a string)", raw)
            if not 0.0 <= score <= 10.0:
                fail(source, place, "a score from 0.0 to 10.0", raw)
            return Level.HIGH if score >= 7.0 else Level.MEDIUM if score >= 4.0 else Level.LOW
    default = obj(rule.get("defaultConfiguration", {}), source, f"{rule_at}.defaultConfiguration")
    value = result.get("level", default.get("level", "warning"))
    if value not in (*_LEVELS, "none"):
        where = f"{at}.level" if "level" in result else f"{rule_at}.defaultConfiguration.level"
        fail(source, where, "one of none, note, warning, error", value)
    return _LEVELS.get(value)


def _confidence(result: Mapping[str, Any], rule: Mapping[str, Any]) -> Level:
    """bandit's `issue_confidence`, else the rule's `precision`; unknown counts as HIGH."""
    props = result.get("properties")
    given = props.get("issue_confidence") if isinstance(props, dict) else None
    if given in {m.value for m in Level}:
        return Level(given)
    rule_props = rule.get("properties")
    precision = rule_props.get("precision") if isinstance(rule_props, dict) else None
    return _PRECISION.get(str(precision), Level.HIGH)


def _location(result: Mapping[str, Any], source: str, at: str) -> tuple[str, int]:
    locations = items(result.get("locations", []), source, f"{at}.locations")
    if not locations:
        return "", 0
    loc = obj(locations[0], source, f"{at}.locations[0]")
    physical = obj(loc.get("physicalLocation", {}), source, f"{at}.locations[0].physicalLocation")
    place = f"{at}.locations[0].physicalLocation"
    artifact = obj(physical.get("artifactLocation", {}), source, f"{place}.artifactLocation")
    uri = text(artifact.get("uri", ""), source, f"{place}.artifactLocation.uri")
    region = obj(physical.get("region", {}), source, f"{place}.region")
    line = integer(region.get("startLine", 0), source, f"{place}.region.startLine")
    return relpath(unquote(uri.removeprefix("file://"))), line


def _errors(run: Mapping[str, Any], name: str, source: str, at: str) -> list[ScanError]:
    """What makes a run's results incomplete: an unsuccessful invocation, error notifications."""
    errors: list[ScanError] = []
    for k, raw in enumerate(items(run.get("invocations", []), source, f"{at}.invocations")):
        inv_at = f"{at}.invocations[{k}]"
        inv = obj(raw, source, inv_at)
        before = len(errors)
        for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
            for n, note in enumerate(items(inv.get(key, []), source, f"{inv_at}.{key}")):
                note_at = f"{inv_at}.{key}[{n}]"
                note = obj(note, source, note_at)
                if note.get("level", "warning") == "error":
                    path, _ = _location(note, source, note_at)
                    message = obj(note.get("message", {}), source, f"{note_at}.message")
                    errors.append(ScanError(path, str(message.get("text", "error"))))
        if inv.get("executionSuccessful") is False and len(errors) == before:
            errors.append(ScanError("", f"{name} reports its execution was not successful"))
    return errors


def write(report: Report) -> dict[str, JSON]:
    """A SARIF 2.1.0 log of `report` (one run), laid out for GitHub code scanning: every rule
    described (short, full, help, link, CWE tag, the highest `security-severity` of its
    findings), every result at a file and line with a fingerprint that survives line moves."""
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, []).append(f)
    index = {rule: i for i, rule in enumerate(by_rule)}
    descriptors: list[JSON] = [_descriptor(found) for found in by_rule.values()]
    seen: dict[str, int] = {}
    results: list[JSON] = []
    for f in report.findings:
        result = _result(f, index[f.rule])
        result["partialFingerprints"] = fingerprint(seen, f.rule, f.path, f.message)
        results.append(result)
    notes: list[JSON] = [
        {
            "level": "error",
            "message": {"text": e.reason},
            **({"locations": [_artifact_location(e.path)]} if e.path else {}),
        }
        for e in report.errors
    ]
    invocation: dict[str, JSON] = {"executionSuccessful": not report.errors}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    driver: dict[str, JSON] = {
        "name": report.tool.name,
        "informationUri": "https://github.com/PyCQA/bandit",
        "rules": descriptors,
    }
    if report.tool.version != "unknown":
        driver["version"] = report.tool.version
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "invocations": [invocation], "results": results}],
    }


def descriptor(
    rule_id: str,
    *,
    name: str,
    short: str,
    full: str,
    help_markdown: str,
    help_uri: str = "",
    severity: str = "",
    tags: tuple[str, ...] = (),
    precision: str = "",
) -> dict[str, JSON]:
    """A rule (reportingDescriptor) with everything GitHub code scanning shows and sorts by.

    `severity` is `properties.security-severity` (a score string, omitted when unknown);
    `help.text` is the markdown with its link syntax flattened."""
    properties: dict[str, JSON] = {"tags": list[JSON](dict.fromkeys(("security", *tags)))[:20]}
    if severity:
        properties["security-severity"] = severity
    if precision:
        properties["precision"] = precision
    rule: dict[str, JSON] = {
        "id": rule_id,
        "name": _name(name or rule_id),
        "shortDescription": {"text": _clip(short or rule_id)},
        "fullDescription": {"text": _clip(full or short or rule_id)},
        "help": {"text": _plain(help_markdown), "markdown": help_markdown},
        "properties": properties,
    }
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def fingerprint(seen: dict[str, int], *identity: str) -> dict[str, JSON]:
    """`partialFingerprints` from what a finding is (not its line): the same finding keeps its
    value from run to run; repeats of one identity are numbered, as GitHub's own hash does."""
    digest = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return {"primaryLocationLineHash": f"{digest}:{seen[digest]}"}


def score(level: Level) -> str:
    """bandit's severity as a `security-severity` score ("" when undefined)."""
    return _SECURITY_SEVERITY.get(level, "")


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 1000 else flat[:999] + "…"


def _name(text: str) -> str:
    """A rule name as GitHub shows it: CamelCase words, at most 255 characters."""
    words = re.split(r"[^0-9A-Za-z]+", text)
    return ("".join(w[:1].upper() + w[1:] for w in words if w) or "Rule")[:255]


def _plain(markdown: str) -> str:
    return (
        re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\1 (\2)", markdown).replace("**", "").replace("`", "")
    )


def _descriptor(found: list[Finding]) -> JSON:
    f = found[0]
    worst = max((x.severity for x in found), key=lambda level: level.rank)
    surest = max((x.confidence for x in found), key=lambda level: level.rank)
    title = f.rule_name.replace("_", " ") if f.rule_name else f.rule
    cwe = f"CWE-{f.cwe}" if f.cwe is not None else ""
    full = f"{f.rule} {title}" + (f" ({cwe})" if cwe else "") + f": {_generic(f)}"
    lines = [f"**{f.rule} {title}**" + (f" ({cwe})" if cwe else "")]
    if f.help_uri:
        lines.append(f"See the rule's documentation: [{f.help_uri}]({f.help_uri}).")
    if f.cwe is not None:
        url = f"https://cwe.mitre.org/data/definitions/{f.cwe}.html"
        lines.append(f"Weakness: [{cwe}]({url}).")
    return descriptor(
        f.rule,
        name=f.rule_name or f.rule,
        short=f"{f.rule} {title}",
        full=full,
        help_markdown="\n\n".join(lines),
        help_uri=f.help_uri,
        severity=score(worst),
        tags=(f"external/cwe/cwe-{f.cwe}",) if f.cwe is not None else (),
        precision=_PRECISION_OF.get(surest, ""),
    )


def _generic(f: Finding) -> str:
    """The finding's message without what it quotes from the code (a password, say)."""
    return f.message.partition(":")[0] if f.rule in _QUOTING else f.message


def _result(f: Finding, index: int) -> dict[str, JSON]:
    region: dict[str, JSON] = {"startLine": max(f.line, 1)}
    if f.end_line > f.line:
        region["endLine"] = f.end_line
    if f.column > 0:
        region["startColumn"] = f.column
    if f.end_column > 0 and (f.end_line > f.line or f.end_column > f.column):
        region["endColumn"] = f.end_column
    if f.snippet:
        region["snippet"] = {"text": f.snippet}
    location = _artifact_location(f.path)
    physical = location["physicalLocation"]
    assert isinstance(physical, dict)
    physical["region"] = region
    properties: dict[str, JSON] = {
        "issue_severity": f.severity.value,
        "issue_confidence": f.confidence.value,
    }
    if f.severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[f.severity]
    return {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": _SARIF_LEVEL.get(f.severity, "none"),
        "message": {"text": f.message},
        "locations": [location],
        "properties": properties,
    }


def _artifact_location(path: str) -> dict[str, JSON]:
    return {
        "physicalLocation": {"artifactLocation": {"uri": quote(path), "uriBaseId": "%SRCROOT%"}}
    }
