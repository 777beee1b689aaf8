"""sast: bandit on the tracked Python files at HEAD, or an ingested bandit JSON / SARIF report.

bandit runs once, with JSON output; the SARIF artifact is made from that JSON. bandit exits 0
on files it could not parse, so its `errors[]` (the files it skipped) make the evidence
incomplete. Metrics count exactly the findings bandit's `results` lists (suppressed findings —
`# nosec`, baseline, configured skips — are not there); the status compares them with
`severity_threshold` and `confidence`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.sast import bandit as sast_bandit
from sdl_tracker.collectors.sast import scope as sast_scope
from sdl_tracker.collectors.sast.bandit import Failed, SastConfig
from sdl_tracker.collectors.sast.scope import Scope
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded, scanreport
from sdl_tracker.formats import sarif as sarif_format
from sdl_tracker.formats.findings import Finding, Level, Report
from sdl_tracker.gitdata import git
from sdl_tracker.models import JSON, Number, Result, ResultStatus, Tool

NAME = "sast"
PROVIDES = ("SI-2", "SVV-3")
KIND = "sast"
_SHOWN = 3


def inputs(ctx: Context) -> Mapping[str, str]:
    """Tree ids of the covered paths, digests of bandit's config files, bandit's version."""
    cfg, _ = _scoped(ctx, SastConfig.load(ctx.config, ctx.root))
    found = {f"tree:{p}": oid for p, oid in git.tree_ids(ctx.root, ctx.commit, cfg.paths).items()}
    for name in cfg.files():
        found[f"file:{name}"] = _sha256((ctx.root / name).read_bytes())
    bandit = sast_bandit.locate(cfg)
    found["tool:bandit"] = bandit.version if bandit else "missing"
    found["config:sast"] = _sha256(json.dumps(dict(ctx.config), sort_keys=True).encode())
    return found


def collect(ctx: Context) -> Iterator[Evidence]:
    cfg = SastConfig.load(ctx.config, ctx.root)
    if ctx.from_report is not None:
        yield _ingest(ctx.from_report, cfg)
    else:
        cfg, scope = _scoped(ctx, cfg)
        yield _scan(ctx, cfg, scope)


def _scoped(ctx: Context, cfg: SastConfig) -> tuple[SastConfig, Scope]:
    """The configured paths, else the packages the build ships (tests, docs, examples left out),
    and the Python files the scan leaves out either way."""
    files = _tracked(ctx.root, ctx.commit)
    if cfg.paths_set:
        how = "[collectors.sast] paths"
        if cfg.paths == (".",):
            return cfg, Scope((".",), how)
        return cfg, Scope(cfg.paths, how, sast_scope.left_out(files, cfg.paths))

    def read(name: str) -> str:
        shown = git.run(ctx.root, "show", f"{ctx.commit}:{name}", check=False)
        return shown.stdout.decode("utf-8", "replace") if shown.returncode == 0 else ""

    scope = sast_scope.shipped(files, read)
    if scope.paths != (".",):
        scope = replace(scope, how=f"the shipped packages, from {scope.how}")
    else:
        scope = replace(scope, how="no shipped package found")
    return replace(cfg, paths=scope.paths), scope


def _tracked(root: Path, commit: str) -> list[str]:
    listing = git.run(root, "ls-tree", "-r", "-z", "--name-only", commit).stdout
    return [os.fsdecode(name) for name in listing.split(b"\0") if name]


def _ingest(path: Path, cfg: SastConfig) -> Evidence:
    data = bounded.read(path, "report")
    report = scanreport.parse(data, str(path))
    artifacts = (
        [(path.name, data)]
        if report.format == "sarif"
        else [("bandit.json", data), ("bandit.sarif", _sarif(report))]
    )
    return _evidence(
        report, cfg, artifacts, source=f"report {path.name}", inputs={"report": _sha256(data)}
    )


def _scan(ctx: Context, cfg: SastConfig, scope: Scope) -> Evidence:
    bandit = sast_bandit.locate(cfg)
    if bandit is None:
        hint = f"`{sast_bandit.INSTALL_HINT}`"
        if cfg.bandit:
            problem = f"`{cfg.bandit}` was not found: {hint} or fix [collectors.sast] bandit"
        else:
            problem = f"bandit is not installed: {hint}"
        return _incomplete(cfg, Tool("bandit", "missing"), f"{problem}, then collect again")
    tool = Tool("bandit", bandit.version)
    missing = _missing_paths(ctx, cfg)
    if missing:
        return _incomplete(
            cfg,
            tool,
            f"{_names(missing)} not in HEAD: fix [collectors.sast] paths, then collect again",
        )
    tracked = sast_bandit.tracked_python(ctx.root, ctx.commit, cfg.paths)
    dropped = sast_bandit.excluded(tracked, cfg.exclude) | sast_bandit.excluded_by_bandit(
        ctx.root, cfg, tracked
    )
    files = [f for f in tracked if f not in dropped]
    if not files:
        return _incomplete(
            cfg,
            tool,
            f"no tracked Python files to scan under {', '.join(cfg.paths)} "
            f"({len(dropped)} excluded): set [collectors.sast] paths, or ingest another "
            "tool's SARIF report with --from-report",
        )
    dirty = sast_bandit.changed(
        ctx.root, ctx.commit, [*cfg.paths, *cfg.files()], {*files, *cfg.files()}
    )
    if dirty:
        return _incomplete(
            cfg, tool, f"{_names(dirty)} differ from HEAD: commit or stash them, then collect again"
        )
    outcome = sast_bandit.run(ctx.root, bandit, cfg, files)
    if isinstance(outcome, Failed):
        return _incomplete(cfg, tool, f"{outcome.reason}, then collect again")
    try:
        report = scanreport.parse(outcome.report, "bandit's JSON report")
    except InputError as e:
        return _incomplete(cfg, tool, f"bandit wrote a report that cannot be read: {e}")
    report = replace(report, tool=tool)
    artifacts = [("bandit.json", outcome.report), ("bandit.sarif", _sarif(report))]
    return _evidence(report, cfg, artifacts, source="bandit", excluded=len(dropped), scope=scope)


def _missing_paths(ctx: Context, cfg: SastConfig) -> list[str]:
    named = [p for p in cfg.paths if p != "."]
    present = git.tree_ids(ctx.root, ctx.commit, named) if named else {}
    return [p for p in named if p not in present]


_MAX_LISTED = 1000
"""Medium and high findings listed in the entry (all of them are in the stored report)."""


def _evidence(
    report: Report,
    cfg: SastConfig,
    artifacts: Sequence[tuple[str, bytes]],
    *,
    source: str,
    inputs: Mapping[str, str] | None = None,
    excluded: int = 0,
    scope: Scope | None = None,
) -> Evidence:
    failing = [
        f
        for f in report.findings
        if f.severity.rank >= cfg.severity_threshold.rank
        and f.confidence.rank >= cfg.confidence.rank
    ]
    metrics: dict[str, Number] = {
        "findings": len(report.findings),
        "high": report.count(Level.HIGH),
        "medium": report.count(Level.MEDIUM),
        "low": report.count(Level.LOW),
        "files_scanned": report.files_scanned,
        "errors": len(report.errors),
    }
    status, summary = _verdict(report, cfg, failing)
    if scope is not None:
        summary = f"{summary}; {scope.describe()}"
    listed = [f for f in report.findings if f.severity.rank >= Level.MEDIUM.rank]
    details: dict[str, JSON] = {
        "source": source,
        "format": report.format,
        "severity_threshold": cfg.severity_threshold.value,
        "confidence": cfg.confidence.value,
        "failing": len(failing),
        "excluded": excluded,
        "errors": [f"{e.path}: {e.reason}" if e.path else e.reason for e in report.errors[:20]],
        # What finding waivers (`sdl-tracker waive B602 ...`) match against; see findings.py.
        "findings": [
            {"id": f.rule, "severity": f.severity.value.lower(), "path": f.path, "line": f.line}
            for f in listed[:_MAX_LISTED]
        ],
        "findings_not_listed": max(len(listed) - _MAX_LISTED, 0),
    }
    if scope is not None:
        details["scope"] = {
            "paths": list(scope.paths),
            "how": scope.how,
            "left_out": list(scope.left_out),
        }
    return Evidence(
        kind=KIND,
        tool=report.tool,
        requirements=PROVIDES,
        result=Result(status, summary, metrics),
        covers=cfg.paths,
        inputs=inputs or {},
        artifacts=tuple(artifacts),
        details=details,
    )


def _verdict(
    report: Report, cfg: SastConfig, failing: Sequence[Finding]
) -> tuple[ResultStatus, str]:
    name, files = report.tool.name, report.files_scanned
    counts = ", ".join(f"{report.count(lv)} {lv.value.lower()}" for lv in _SEVERITIES)
    if report.errors:
        paths = [e.path for e in report.errors if e.path]
        tool_errors = [e.reason for e in report.errors if not e.path]
        problems = [f"could not scan {_names(paths)}"] if paths else []
        problems += [f"reported: {_names(tool_errors)}"] if tool_errors else []
        return ResultStatus.INCOMPLETE, (
            f"{name} {' and '.join(problems)} ({files} files scanned): fix them or exclude "
            "them ([collectors.sast] exclude), then collect again"
        )
    if report.format == "bandit" and files == 0:
        return ResultStatus.INCOMPLETE, (
            "bandit scanned no files (its configuration excluded them all): check "
            "exclude_dirs / .bandit, then collect again"
        )
    threshold = cfg.severity_threshold.value
    if failing:
        first = failing[0]
        suppress = f"`# nosec {first.rule}`" if report.format == "bandit" else "the tool"
        return ResultStatus.FAIL, (
            f"{len(failing)} finding(s) at or above {threshold} ({counts}) in {files} files, "
            f"first {first.path}:{first.line} {first.rule}: fix them, or suppress reviewed "
            f"ones with {suppress}"
        )
    if not report.findings:
        return ResultStatus.PASS, f"{name}: 0 findings in {files} files"
    return ResultStatus.PASS, (
        f"{name}: {len(report.findings)} findings ({counts}) in {files} files, "
        f"none at or above {threshold}"
    )


_SEVERITIES = (Level.HIGH, Level.MEDIUM, Level.LOW)


def _incomplete(cfg: SastConfig, tool: Tool, summary: str) -> Evidence:
    return Evidence(
        kind=KIND,
        tool=tool,
        requirements=PROVIDES,
        result=Result(ResultStatus.INCOMPLETE, summary),
        covers=cfg.paths,
    )


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    more = len(items) - _SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _sarif(report: Report) -> bytes:
    return json.dumps(sarif_format.write(report), indent=2, ensure_ascii=False).encode() + b"\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
