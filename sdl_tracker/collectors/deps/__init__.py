"""deps: dependency vulnerability audit (SM-9, SVV-3, DM-3, SUM-3) — never a silent pass.

Three ways to get the facts, chosen in this order: ingest a pip-audit JSON report made on a
networked machine (`--from-report`, or `report` in `[collectors.deps]`), match the exact
versions against an offline OSV database directory (`--osv-db` / `osv_db`), or run the real
pip-audit (against an OSV mirror with `--osv-url` / `osv_url`, else its default PyPI service).
pip-audit exits 0 when it audited nothing (every dependency skipped, as on air-gapped
machines): any skipped dependency, a failed run or an unreachable service is *incomplete*.
Vulnerabilities a VEX document marks `not_affected` are reported as such and do not fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from packaging.utils import canonicalize_name

from sdl_tracker import __version__
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.deps import osv, osvapi, pins, pipaudit, vex
from sdl_tracker.collectors.deps.config import Settings, Source, settings, source
from sdl_tracker.collectors.deps.result import WAYS_OUT, Outcome, evidence
from sdl_tracker.collectors.deps.severity import unknown
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.models import JSON, Tool, format_time

NAME = "deps"
PROVIDES = ("SM-9", "SVV-3", "DM-3", "SUM-3")
MAX_AGE_HOURS = 24
_PIN_HINT = (
    "pin exact versions (==, e.g. with `pip-compile` or `pip freeze`) or lock them in "
    "pylock.toml, so no package index is needed"
)


def inputs(ctx: Context) -> Mapping[str, str]:
    s = settings(ctx)
    if s.report is not None:
        return {}  # a report is cheap to re-read, and its age matters more than its inputs
    src = source(ctx.root, s)
    found = {"source": src.kind}
    for path in (*src.declared.files, *vex.paths(ctx.root, s.vex)):
        found[f"sha256:{_rel(path, ctx.root)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    if src.kind == "environment":
        found["environment"] = pins.digest(src.declared)
    if s.osv_db is not None:
        db = osv.identify(s.osv_db)
        found["osv_db"] = f"{db.path.resolve()}#{db.fingerprint}"
    else:
        found["pip-audit"] = pipaudit.version()
        found["service"] = s.osv_url or "pypi"
    return found


def collect(ctx: Context) -> Iterator[Evidence]:
    s = settings(ctx)
    vex_files = [
        (_rel(p, ctx.root), bounded.read(p, "vex", _rel(p, ctx.root)))
        for p in vex.paths(ctx.root, s.vex)
    ]
    statements = vex.load(vex_files)
    if s.report is not None:
        yield evidence(_ingest(ctx, s), statements, vex_files, PROVIDES)
        return
    src = source(ctx.root, s)
    covers = tuple(_rel(p, ctx.root) for p in src.declared.files) or (".",)
    if src.kind == "none":
        outcome = Outcome(
            Tool("pip-audit", pipaudit.version()),
            "pip-audit",
            covers=covers,
            error="no requirements.txt, pylock.toml or pyproject.toml [project] found: set "
            '[collectors.deps] source ("requirements" with `requirements = [...]`, '
            '"pyproject" or "environment")',
            details={"source": "none"},
        )
    else:
        if s.osv_db is not None:
            outcome = _offline(s.osv_db, src, covers, ctx.root)
        else:
            outcome = _pip_audit(ctx.root, s, src, covers)
        where = _where(src, s, covers)
        outcome = replace(
            outcome,
            how=f"{outcome.how} on {where}",
            details={**outcome.details, "declared_in": where, "python": s.python},
        )
    yield evidence(outcome, statements, vex_files, PROVIDES)


def _where(src: Source, s: Settings, covers: tuple[str, ...]) -> str:
    """Which dependencies were audited: the product's files, or its interpreter's packages."""
    if src.kind == "environment":
        return f"the packages installed for {s.python}"
    return ", ".join(covers)


def _offline(db_path: Path, src: Source, covers: tuple[str, ...], root: Path) -> Outcome:
    db = osv.identify(db_path)
    report = osv.audit(db.path, src.declared.pins)
    return Outcome(
        Tool("sdl-tracker osv-db", __version__),
        f"the offline OSV database {db.path}",
        report=report,
        artifact=("osv-db-audit.json", report.to_json()),
        covers=covers,
        hint=f'{_PIN_HINT}, or use source = "environment"',
        locations=pins.locations(src.declared, root),
        details={
            "mode": "osv-db",
            "source": src.kind,
            "osv_db": {
                "path": str(db.path),
                "record_files": db.files,
                "newest_file": db.newest,
                "fingerprint": db.fingerprint,
            },
        },
    )


def _pip_audit(root: Path, s: Settings, src: Source, covers: tuple[str, ...]) -> Outcome:
    service = ("-s", "osv", "--osv-url", s.osv_url) if s.osv_url else ()
    how = f"pip-audit (OSV at {s.osv_url})" if s.osv_url else "pip-audit (PyPI JSON API)"
    ran = pipaudit.run((*src.arguments, *service), root, s.timeout)
    details: dict[str, JSON] = {
        "mode": "pip-audit",
        "source": src.kind,
        "service": "osv" if s.osv_url else "pypi",
        "osv_url": s.osv_url,
        "arguments": list(src.arguments + service),
    }
    tool = Tool("pip-audit", pipaudit.version())
    if isinstance(ran, pipaudit.Failed):
        return Outcome(
            tool,
            how,
            covers=covers,
            declared=len(src.declared.pins),
            error=ran.reason,
            hint=WAYS_OUT if _no_resolution(src) else f"{_PIN_HINT}; or {WAYS_OUT}",
            details={**details, "exit_code": ran.exit_code, "unreachable": ran.unreachable},
        )
    report, records = _severity(ran.report, s)
    return Outcome(
        tool,
        how,
        report=report,
        artifact=("pip-audit.json", ran.raw),
        records=records,
        covers=covers,
        locations=pins.locations(src.declared, root),
        details={**details, "exit_code": ran.exit_code},
    )


def _severity(
    report: pipaudit.Report, s: Settings
) -> tuple[pipaudit.Report, tuple[str, bytes] | None]:
    """Score what pip-audit found from the OSV records of the server it used (its JSON has no
    severity); the PyPI service has no CVSS vectors to give."""
    if not s.osv_url:
        why = (
            "pip-audit's PyPI service reports no severity: audit against an OSV server "
            "(--osv-url) or the offline OSV database (--osv-db) to get CVSS scores"
        )
        return pipaudit.rated(report, lambda d, v: unknown(why)), None
    ids = [v.id for d in report.dependencies for v in d.vulns]
    if not ids:
        return report, None
    fetched = osvapi.fetch(s.osv_url, ids, s.timeout)
    rated = osvapi.rate(report, fetched, f"the OSV server {s.osv_url}")
    return rated, ("osv-records.json", fetched.to_json()) if fetched.records else None


def _no_resolution(src: Source) -> bool:
    """True when pip-audit reads exact versions and never asks pip to resolve (no index)."""
    return src.kind == "environment" or bool({"--disable-pip", "--locked"} & set(src.arguments))


def _ingest(ctx: Context, s: Settings) -> Outcome:
    path = s.report
    assert path is not None
    try:
        raw = bounded.read(path, "report")
        mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError as e:
        raise InputError(f"{path}: cannot read the pip-audit report: {e}") from e
    report = pipaudit.rated(
        pipaudit.parse(raw, str(path)),
        lambda d, v: unknown(
            "a pip-audit report carries no severity: audit with --osv-db or --osv-url "
            "to get CVSS scores"
        ),
    )
    age = max(0.0, (ctx.now - mtime).total_seconds() / 3600)
    problems = []
    if age > s.max_report_age_hours:
        problems.append(
            f"the report is {age:.0f} h old (max {s.max_report_age_hours:g} h): run pip-audit "
            "again on a networked machine and ingest the new report"
        )
    missing = _not_covered(ctx.root, s, report)
    if missing:
        problems.append(
            f"the report does not cover {', '.join(missing[:5])}"
            + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else "")
            + ": make it from the same requirements"
        )
    return Outcome(
        Tool("pip-audit", "unknown"),
        f"the pip-audit report {path.name} of {format_time(mtime)}",
        report=report,
        artifact=("pip-audit.json", raw),
        error="; ".join(problems) or None,
        locations=pins.locations(source(ctx.root, s).declared, ctx.root),
        details={
            "mode": "report",
            "report": {
                "file": str(path),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "mtime": format_time(mtime),
                "age_hours": int(age),
                "max_age_hours": s.max_report_age_hours,
                "pip_audit_version": None,  # pip-audit's JSON format does not carry it
            },
            "uncovered": list[JSON](missing),
        },
    )


def _not_covered(root: Path, s: Settings, report: pipaudit.Report) -> list[str]:
    """Declared pins (requirements / pyproject sources) the report does not list."""
    src = source(root, s)
    if src.kind not in ("requirements", "pyproject"):
        return []
    listed = {(canonicalize_name(d.name), d.version) for d in report.dependencies}
    names = {name for name, _ in listed}
    return [
        f"{p.name}=={p.version}" if p.version else p.name
        for p in src.declared.pins
        if not p.url
        and canonicalize_name(p.name) not in {n for n, v in listed if v in (p.version, None)}
        and (p.version is not None or canonicalize_name(p.name) not in names)
    ]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
