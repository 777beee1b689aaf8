"""issues: security-issue handling from records kept in the repository (DM-1..DM-6, SUM-5).

Records are YAML files (one issue each) under `security-issues/`, plus OSV or GitHub Security
Advisory JSON files under `advisories/`. Derived: every open issue assessed with a CVSS vector
(DM-4), time to triage and to fix, and fixes shipped within the patch SLA by severity (SUM-5),
the SLA as the patch-policy document states it (`sla`). Drills (`drill: true`, a test advisory
taken through the whole process) count as issues handled, and are counted apart as `drills`.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator, Mapping
from datetime import date, timezone
from pathlib import Path
from typing import Any

import yaml

from sdl_tracker import __version__
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.issues import published_csaf
from sdl_tracker.collectors.issues import sla as sla_mod
from sdl_tracker.collectors.issues.records import Issue, check_dates, from_advisory, from_record
from sdl_tracker.cra import clock
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.gitdata import git
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

NAME = "issues"
PROVIDES = ("DM-2", "DM-3", "DM-4", "DM-5", "SUM-5")
_TOOL = Tool(name="sdl-tracker issues", version=__version__)
_DEFAULT_DIRS = ("security-issues", ".security-issues")
_DEFAULT_ADVISORIES = ("advisories",)


def _dirs(ctx: Context, key: str, default: tuple[str, ...]) -> list[str]:
    value = ctx.config.get(key)
    if value is None:
        return [d for d in default if (ctx.root / d).is_dir()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(
            f"[collectors.issues] {key}: expected a list of directories, got {value!r}"
        )
    return value


def _files(ctx: Context) -> tuple[list[Path], list[Path]]:
    records = [
        p
        for d in _dirs(ctx, "paths", _DEFAULT_DIRS)
        for p in sorted((ctx.root / d).glob("**/*"))
        if p.suffix in (".yaml", ".yml")
    ]
    advisories = [
        p
        for d in _dirs(ctx, "advisories", _DEFAULT_ADVISORIES)
        for p in sorted((ctx.root / d).glob("**/*.json"))
    ]
    return records, advisories


def inputs(ctx: Context) -> Mapping[str, str]:
    dirs = folders(ctx)
    dirs.append(sla_mod.document(ctx.config))
    ids = git.tree_ids(ctx.root, ctx.commit, dirs)
    # Open issues age every day: the SLA check depends on today's date.
    return {
        **{f"tree:{d}": ids.get(d, "untracked") for d in dirs},
        "date": ctx.now.date().isoformat(),
        **_cra_inputs(ctx),
    }


def _cra_inputs(ctx: Context) -> dict[str, str]:
    """The Article 14 clock runs in hours: a stage that fell overdue since the last run is new
    input, so that run is not reaffirmed."""
    try:
        records, _ = _files(ctx)
        found = clock.cases((from_record(p, _load_yaml(p)) for p in records), ctx.now, closing(ctx))
    except InputError:
        return {"cra_clock": "unreadable"}  # collect() reports the error
    if not found:
        return {}
    return {"cra_clock": ";".join(f"{c.id}:" + ",".join(s.state for s in c.stages) for c in found)}


def closing(ctx: Context) -> dict[tuple[str, str], clock.Submission]:
    """The stages closed by `record cra_submission` entries signed by a product-security-lead,
    as `collect` found them in the ledger and the roster (option `cra_signed`, JSON); a record's
    own `cra.submissions` close nothing."""
    text = ctx.options.get("cra_signed")
    if not text:
        return {}
    listed = json.loads(text)
    return clock.signed(
        {(str(d["issue"]), str(d["stage"])): d for d in listed if isinstance(d, dict)}
    )


def not_found(ctx: Context) -> tuple[str, ...]:
    """What it looked for and did not find (printed by `collect`)."""
    if ctx.from_report is not None or _dirs(ctx, "paths", _DEFAULT_DIRS):
        return ()
    if _dirs(ctx, "advisories", _DEFAULT_ADVISORIES):
        return ()
    return (
        f"no {' or '.join(d + '/' for d in _DEFAULT_DIRS)} folder of issue records and no "
        f"{_DEFAULT_ADVISORIES[0]}/ folder in {ctx.root}, so nothing was recorded: create "
        "security-issues/ with one YAML file per security issue (e.g. "
        "security-issues/SEC-2026-001.yaml, fields in docs/collectors/issues.md) and commit it, "
        "even with no issue yet (a README.md there says how to report one)",
    )


def collect(ctx: Context) -> Iterator[Evidence]:
    sla = sla_mod.read(ctx.root, sla_mod.document(ctx.config))
    if ctx.from_report is not None:
        records, advisories = (
            ([], [ctx.from_report])
            if ctx.from_report.suffix == ".json"
            else (
                [ctx.from_report],
                [],
            )
        )
    else:
        records, advisories = _files(ctx)
        if not records and not advisories and not _dirs(ctx, "paths", _DEFAULT_DIRS):
            return
    issues, published = _parse(records, advisories)
    today = ctx.now.astimezone(timezone.utc).date()
    for issue in issues:
        check_dates(issue, today)
    if isinstance(sla, str):
        yield _incomplete(ctx, issues, sla, records + advisories)
    else:
        yield _evidence(ctx, issues, sla, records + advisories)
    for path, data in published:
        yield published_csaf.evidence(ctx, path, data, _TOOL)


def folders(ctx: Context) -> list[str]:
    """The folders of issue records and advisories (configured, or the defaults that exist)."""
    return _dirs(ctx, "paths", _DEFAULT_DIRS) + _dirs(ctx, "advisories", _DEFAULT_ADVISORIES)


def read(ctx: Context) -> list[Issue]:
    """Every security issue the records and advisories of the work tree hold (`ctx.config` is
    the issues collector's table); InputError naming the file when one is malformed."""
    records, advisories = _files(ctx)
    return _parse(records, advisories)[0]


def _parse(
    records: list[Path], advisories: list[Path]
) -> tuple[list[Issue], list[tuple[Path, dict[str, Any]]]]:
    """(the issues, the published CSAF documents) of these files."""
    issues = [from_record(p, _load_yaml(p)) for p in records]
    tracked = {i.advisory for i in issues if i.advisory}
    published: list[tuple[Path, dict[str, Any]]] = []
    for path in advisories:
        data = _load_json(path)
        if published_csaf.is_csaf(data):  # a CSAF document is an advisory, not an issue
            published.append((path, data))
            continue
        advisory = from_advisory(path, data)
        # An advisory already linked from a record is the same issue, not a second one.
        if advisory.id not in tracked and not tracked.intersection(advisory.aliases):
            issues.append(advisory)
    seen: dict[str, Path] = {}
    for issue in issues:
        if issue.id in seen:
            raise InputError(
                f"{issue.source}: issue id {issue.id} is also used by {seen[issue.id]}"
            )
        seen[issue.id] = issue.source
    return issues, published


def _load_yaml(path: Path) -> Any:
    try:
        return bounded.yaml_load(_read(path), str(path), "issues")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark else "?"
        raise InputError(f"{path}: {place}: not valid YAML ({getattr(e, 'problem', e)})") from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from e


def _load_json(path: Path) -> Any:
    try:
        return bounded.json_loads(_read(path), str(path), "issues")
    except json.JSONDecodeError as e:
        raise InputError(
            f"{path}: line {e.lineno} column {e.colno}: not valid JSON ({e.msg})"
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from e


def _days(start: date | None, end: date | None) -> int | None:
    return (end - start).days if start and end else None


def _covers(ctx: Context, files: list[Path]) -> tuple[str, ...]:
    dirs = {str(p.relative_to(ctx.root).parts[0]) for p in files if p.is_relative_to(ctx.root)}
    return tuple(sorted({*dirs, sla_mod.document(ctx.config)}))


def _incomplete(ctx: Context, issues: list[Issue], why: str, files: list[Path]) -> Evidence:
    # The Article 14 clock does not depend on the patch targets: its cases are kept, so that
    # status and the CRA view still see (and re-judge) every deadline.
    cases = clock.cases(issues, ctx.now, closing(ctx))
    problems = "".join(f"; {p}" for p in _cra_problems(cases))
    return Evidence(
        kind="issue_tracker_record",
        tool=_TOOL,
        requirements=PROVIDES,
        result=Result(
            ResultStatus.INCOMPLETE,
            f"{len(issues)} security issue(s) read, but {why}{problems}",
            {"issues": len(issues), **_cra_metrics(cases)},
        ),
        covers=_covers(ctx, files),
        details={
            "cra_cases": [c.to_json() for c in cases],
            "without_cra": {
                "status": ResultStatus.INCOMPLETE.value,
                "summary": f"{len(issues)} security issue(s) read, but {why}",
            },
        }
        if cases
        else {},
    )


def _evidence(
    ctx: Context, issues: list[Issue], sla_found: sla_mod.Sla, files: list[Path]
) -> Evidence:
    sla = sla_found.days
    today = ctx.now.astimezone(timezone.utc).date()
    open_issues = [i for i in issues if i.is_open]
    unassessed = [i for i in open_issues if i.cvss is None]
    triage = [d for i in issues if (d := _days(i.received, i.triaged)) is not None]
    fix = [d for i in issues if (d := _days(i.received, i.fixed)) is not None]
    breaches = []
    for i in issues:
        limit = sla.get(i.severity)
        if limit is None:  # unassessed: no target applies (an open one fails as unassessed)
            continue
        taken = (
            _days(i.received, i.fixed)
            if i.fixed
            else _days(i.received, today)
            if i.is_open
            else None
        )
        if taken is not None and taken > limit:
            breaches.append(f"{i.id} ({i.severity}, {taken} days > {limit})")
    problems = []
    if unassessed:
        names = ", ".join(i.id for i in unassessed[:5])
        problems.append(f"{len(unassessed)} open issue(s) not assessed: {names}")
    if breaches:
        problems.append(f"{len(breaches)} patch SLA breach(es): {', '.join(breaches[:5])}")
    cases = clock.cases(issues, ctx.now, closing(ctx))
    base_status = ResultStatus.FAIL if problems else ResultStatus.PASS
    base_summary = (
        "; ".join(problems)
        if problems
        else (f"{len(issues)} security issue(s), {len(open_issues)} open, all assessed, within SLA")
    )
    problems.extend(_cra_problems(cases))
    status = ResultStatus.FAIL if problems else ResultStatus.PASS
    summary = "; ".join(problems) if problems else base_summary
    if not issues:  # nothing handled yet: no pass to claim (the policy says "not demonstrated")
        status = ResultStatus.INFO
        summary = (
            "no security issue recorded yet: the handling process has not run (record a drill, "
            "`drill: true`, to demonstrate it)"
        )
    metrics: dict[str, int | float] = {
        "issues": len(issues),
        "open": len(open_issues),
        "assessed": sum(1 for i in issues if i.cvss is not None),
        "unassessed_open": len(unassessed),
        "fixed": sum(1 for i in issues if i.fixed),
        "disclosed": sum(1 for i in issues if i.advisory),
        "drills": sum(1 for i in issues if i.drill),
        "sla_breaches": len(breaches),
        **_cra_metrics(cases),
    }
    if triage:
        metrics["median_days_to_triage"] = statistics.median(triage)
        metrics["max_days_to_triage"] = max(triage)
    if fix:
        metrics["median_days_to_fix"] = statistics.median(fix)
        metrics["max_days_to_fix"] = max(fix)
    report: dict[str, JSON] = {
        "generated_for": ctx.commit,
        "date": today.isoformat(),
        "patch_sla_days": dict(sla),
        "patch_policy": sla_found.source,
        "issues": [i.to_json() for i in issues],
        "sla_breaches": list(breaches),
        **({"cra_cases": [c.to_json() for c in cases]} if cases else {}),
    }
    return Evidence(
        kind="issue_tracker_record",
        tool=_TOOL,
        requirements=PROVIDES,
        result=Result(status, summary, metrics),
        covers=_covers(ctx, files),
        artifacts=(
            ("security-issues.json", json.dumps(report, indent=2, sort_keys=True).encode()),
        ),
        details={
            "evaluated_on": today.isoformat(),
            # What each record answers to, for "every open finding has an issue record" (SM-11).
            "tracking": [i.tracking() for i in issues],
            **(
                {
                    "cra_cases": [c.to_json() for c in cases],
                    # what the gate re-judges the clock against, at its own time
                    "without_cra": {"status": base_status.value, "summary": base_summary},
                }
                if cases
                else {}
            ),
        },
    )


def _cra_metrics(cases: list[clock.Case]) -> dict[str, int | float]:
    """Article 14: applicable reportable cases, stages overdue (not sent, past their deadline)
    and stages sent late. Zero when no record is reportable."""
    live = [c for c in cases if c.applicable]
    return {
        "cra_reportable": len(live),
        "cra_overdue": sum(len(c.overdue) for c in live),
        "cra_late": sum(len(c.late) for c in live),
        "cra_users_not_informed": sum(1 for c in live if c.users_informed_at is None),
    }


def _cra_problems(cases: list[clock.Case]) -> list[str]:
    overdue = [f"{c.id} {s}" for c in cases for s in c.overdue]
    late = [f"{c.id} {s}" for c in cases for s in c.late]
    problems = []
    if overdue:
        problems.append(
            f"{len(overdue)} CRA Article 14 report(s) overdue: {', '.join(overdue[:5])} "
            "(submit them, then `sdl-tracker record cra_submission … --sign` as a "
            "product-security-lead: a record's own cra.submissions close nothing)"
        )
    if late:
        problems.append(f"{len(late)} CRA Article 14 report(s) sent late: {', '.join(late[:5])}")
    return problems


def _read(path: Path) -> str:
    return bounded.read(path, "issues").decode("utf-8")
