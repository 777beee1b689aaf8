"""deps: turn an audit outcome and the VEX statements into evidence (status, summary, metrics).

Status: *incomplete* when anything was not audited (skipped dependencies, a failed or
unreachable service, a stale or partial report) — even when vulnerabilities were found, so
that a waiver for the findings can never hide the gap; else *fail* when a vulnerability is not
covered by a VEX `not_affected` statement; else *pass*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from sdl_tracker.collectors.base import Evidence
from sdl_tracker.collectors.deps.pipaudit import Dependency, Report, Vuln
from sdl_tracker.collectors.deps.severity import unknown
from sdl_tracker.collectors.deps.vex import Statement, Vex
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

KIND = "dependency_audit"
WAYS_OUT = (
    "audit offline with --osv-db DIR, against an OSV mirror with --osv-url URL, or ingest "
    "--from-report pip-audit.json made on a networked machine"
)


@dataclass(frozen=True)
class Outcome:
    """What one way of auditing produced."""

    tool: Tool
    how: str
    """How it was audited, for the summary, e.g. `pip-audit (OSV at http://…)`."""
    report: Report | None = None
    """None when nothing was audited."""
    artifact: tuple[str, bytes] | None = None
    records: tuple[str, bytes] | None = None
    """The OSV records fetched for the severity of what the audit found (online audits)."""
    covers: tuple[str, ...] = ()
    declared: int = 0
    """Dependencies declared, counted when there is no report."""
    error: str | None = None
    """Why the audit is incomplete, beyond skipped dependencies."""
    hint: str = WAYS_OUT
    """What to do about skipped dependencies."""
    details: Mapping[str, JSON] = field(default_factory=dict)
    locations: Mapping[str, Mapping[str, JSON]] = field(default_factory=dict)
    """Where each package is declared (`pins.locations`), by canonical name."""


@dataclass(frozen=True)
class _Finding:
    dependency: Dependency
    vuln: Vuln
    vex: Statement | None


def evidence(
    o: Outcome, vexdoc: Vex, vex_files: Sequence[tuple[str, bytes]], requirements: tuple[str, ...]
) -> Evidence:
    deps = o.report.dependencies if o.report else ()
    skipped = [d for d in deps if d.skip_reason is not None]
    findings = [_Finding(d, v, vexdoc.not_affected(v.ids)) for d in deps for v in d.vulns]
    open_ = [f for f in findings if f.vex is None]
    total = len(deps) if o.report else o.declared
    metrics = {
        "dependencies": total,
        "audited": len(deps) - len(skipped),
        "skipped": len(skipped) if o.report else total,
        "vulnerabilities": len(open_),
        "vulnerable_packages": len({canonicalize_name(f.dependency.name) for f in open_}),
        "not_affected": len(findings) - len(open_),
    }
    status, summary = _verdict(o, metrics, skipped, open_)
    details: dict[str, JSON] = {
        **o.details,
        "skipped": [
            {"name": d.name, "version": d.version, "reason": d.skip_reason} for d in skipped
        ],
        "vulnerabilities": [_finding_json(f, o.locations) for f in findings],
        "vex_files": [name for name, _ in vex_files],
    }
    if o.error:
        details["error"] = o.error
    artifacts = tuple(a for a in (o.artifact, o.records) if a) + tuple(vex_files)
    return Evidence(
        kind=KIND,
        tool=o.tool,
        requirements=requirements,
        result=Result(status, summary, metrics),
        covers=o.covers + tuple(name for name, _ in vex_files),
        artifacts=artifacts,
        details=details,
    )


def _verdict(
    o: Outcome, m: Mapping[str, int], skipped: Sequence[Dependency], open_: Sequence[_Finding]
) -> tuple[ResultStatus, str]:
    not_affected = f"; {m['not_affected']} not affected per VEX" if m["not_affected"] else ""
    found = _found(open_, m)
    if o.report is None:
        hint = f" — {o.hint}" if o.hint and o.declared else ""
        return ResultStatus.INCOMPLETE, f"not audited with {o.how}: {o.error}{hint}"
    problems = [o.error] if o.error else []
    if skipped:
        reason = skipped[0].skip_reason or ""
        names = _few([d.name for d in skipped])
        problems.append(f"{len(skipped)} skipped ({_clip(reason)}): {names} — {o.hint}")
    if problems:
        so_far = f"; found so far: {found}" if open_ else ""
        return ResultStatus.INCOMPLETE, (
            f"audited {m['audited']} of {m['dependencies']} dependencies with {o.how}; "
            + "; ".join(problems)
            + so_far
        )
    if open_:
        return ResultStatus.FAIL, (
            f"{m['dependencies']} dependencies audited with {o.how}: {found}{not_affected}"
        )
    return ResultStatus.PASS, (
        f"{m['dependencies']} dependencies audited with {o.how}: no known vulnerabilities"
        f"{not_affected}"
    )


def _found(open_: Sequence[_Finding], m: Mapping[str, int]) -> str:
    n, p = m["vulnerabilities"], m["vulnerable_packages"]
    items = [
        f"{f.dependency.name} {f.dependency.version} {f.vuln.id}"
        + (f" (fixed in {f.vuln.fix_versions[0]})" if f.vuln.fix_versions else " (no fix yet)")
        for f in open_
    ]
    plural = "vulnerability" if n == 1 else "vulnerabilities"
    return f"{n} known {plural} in {p} package{'' if p == 1 else 's'}: {_few(items)}"


def _finding_json(f: _Finding, locations: Mapping[str, Mapping[str, JSON]]) -> JSON:
    declared = locations.get(canonicalize_name(f.dependency.name))
    return {
        "declared": dict(declared) if declared else None,
        "package": f.dependency.name,
        "version": f.dependency.version,
        "id": f.vuln.id,
        "aliases": list(f.vuln.aliases),
        "fix_versions": list(f.vuln.fix_versions),
        "fix_available": bool(f.vuln.fix_versions),
        "status": "not_affected" if f.vex else "affected",
        "justification": f.vex.justification if f.vex else None,
        "vex": f.vex.source if f.vex else None,
        "description": f.vuln.description,
        "severity": (f.vuln.severity or unknown("the audit reported no severity")).to_json(),
    }


def _few(items: Sequence[str], limit: int = 3) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
