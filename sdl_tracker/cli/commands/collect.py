"""`sdl-tracker collect`: run collectors at HEAD, store their reports, append one entry each.

Nothing is appended unless every selected collector finished: bad input anywhere leaves the
ledger untouched. Unchanged inputs are not re-run but *reaffirmed* (see `_reaffirm`).
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options, signing
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from sdl_tracker.collectors.base import Collector, Context, Evidence
    from sdl_tracker.ledger.chain import Entry
    from sdl_tracker.ledger.store import Store
    from sdl_tracker.models import Statement
    from sdl_tracker.workspace import Workspace

_STATUS_COLOR = {"pass": "green", "fail": "red", "incomplete": "yellow", "info": "blue"}


NAME = "collect"
HELP = "run the evidence collectors at HEAD and append their evidence"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAMES",
        help="comma-separated collectors to run (default: all, or `enabled` in [collect])",
    )
    parser.add_argument(
        "--from-report",
        type=Path,
        metavar="FILE",
        help="ingest a report made elsewhere instead of running the tool (needs one --only)",
    )
    parser.add_argument(
        "--osv-url",
        default=os.environ.get("SDL_TRACKER_OSV_URL"),
        help="deps: an OSV-compatible query endpoint, e.g. http://mirror/v1/query",
    )
    parser.add_argument(
        "--osv-db",
        type=Path,
        default=os.environ.get("SDL_TRACKER_OSV_DB"),
        help="deps: an offline OSV database directory (OSV JSON/YAML records)",
    )
    parser.add_argument(
        "--since", metavar="REF", help="review/signatures: start of the commit range"
    )
    parser.add_argument("--all", action="store_true", help="review/signatures: the whole history")
    parser.add_argument("--release", metavar="TAG", help="the release tag being collected for")
    parser.add_argument(
        "--fuzz-target",
        metavar="PATH",
        help="fuzzing: the harness source file the ingested fuzzer report is about",
    )
    parser.add_argument("--force", action="store_true", help="re-run every tool, even if unchanged")
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    settings = {
        key: str(value)
        for key, value in (
            ("osv_url", args.osv_url),
            ("osv_db", args.osv_db),
            ("since", args.since),
            ("all", "1" if args.all else None),
            ("release", args.release),
            ("fuzz_target", args.fuzz_target),
        )
        if value
    }
    return run(
        ws=options.workspace(args),
        only=options.names(args.only),
        from_report=args.from_report,
        options=settings,
        force=args.force,
        fmt=args.format,
        signing_key=signing.key_from_env(),
    )


def selected(only: Sequence[str], configured: Mapping[str, object]) -> list[str]:
    """Collector names to run: `--only`, else `enabled` from config, else every collector."""
    from sdl_tracker.collectors import COLLECTORS

    enabled = configured.get("enabled") or list(COLLECTORS)
    if not isinstance(enabled, list):
        raise InputError(f"collect.enabled must be a list of collector names, got {enabled!r}")
    names = list(only) or [str(n) for n in enabled]
    unknown = [n for n in names if n not in COLLECTORS]
    if unknown:
        raise InputError(
            f"unknown collector {unknown[0]!r} (known: {', '.join(sorted(COLLECTORS))})"
        )
    return names


def run(
    *,
    ws: Workspace,
    only: Sequence[str],
    from_report: Path | None,
    options: Mapping[str, str],
    force: bool,
    fmt: str,
    now: datetime | None = None,
    signing_key: Path | None = None,
) -> int:
    """Run the collectors and append their evidence as one batch; with a CI key (`signing_key`,
    else `[ledger] signing_key`) the batch ends with a checkpoint signing its head."""
    batch(
        ws=ws,
        only=only,
        from_report=from_report,
        options=options,
        force=force,
        fmt=fmt,
        now=now,
        signing_key=signing_key,
    )
    return 0


def batch(
    *,
    ws: Workspace,
    only: Sequence[str],
    from_report: Path | None,
    options: Mapping[str, str],
    force: bool,
    fmt: str,
    now: datetime | None = None,
    signing_key: Path | None = None,
) -> list[Entry]:
    """`run`, returning the entries appended (`ci` counts them as its own run's)."""
    from sdl_tracker import ledger
    from sdl_tracker.collectors import COLLECTORS
    from sdl_tracker.collectors.base import Context
    from sdl_tracker.gitdata import git

    root = ws.repo()
    commit = git.resolve(root, "HEAD")
    if commit is None:
        raise InputError(f"{root}: HEAD names no commit yet; commit something, then collect")
    names = selected(only, ws.config.section("collect") or {})
    if from_report is not None and len(names) != 1:
        raise InputError("--from-report needs exactly one collector: add --only NAME")
    now = now or datetime.now(timezone.utc)
    store = ws.store()
    if not store.exists():
        raise ws.no_ledger(store.location)
    key = signing.prepare(ws, store, signing_key, now)  # a bad key: exit 2 before any tool runs
    if ws.ledger_dir is not None:  # `releases` reads the SBOMs recorded in this same ledger
        options = {**options, "ledger_dir": str(ws.ledger_dir)}
    if ws.ledger_url is not None:  # likewise for a central ledger
        options = {**options, "ledger_url": ws.ledger_url, "repo_name": ws.chain_name()}
    previous = _latest_runs(_counted(root, commit, store), names)
    if "issues" in names:  # the Article 14 stages closed by signed submissions
        options = {**options, "cra_signed": _cra_signed(root, commit, store)}
    report = _report_digest(from_report) if from_report is not None else None
    who = git.recorder(root)
    statements: list[Statement] = []
    objects: dict[str, bytes] = {}
    with output.progress(len(names)) as advance:
        for name in names:
            advance(f"collecting {name}")
            ctx = Context(
                root=root,
                commit=commit,
                config=ws.config.collector(name),
                now=now,
                from_report=from_report,
                options=options,
            )
            run_id = f"{commit[:12]}-{uuid.uuid4().hex[:8]}"
            made = _collect_one(COLLECTORS[name], name, ctx, previous.get(name), force, run_id)
            # Optional in the Protocol: collectors that can find nothing say what they looked for.
            not_found = getattr(COLLECTORS[name], "not_found", None)
            for note in not_found(ctx) if not_found is not None else ():
                output.err(f"note: {name}: {note}")
            statements.extend(
                _statement(made_one, name, commit, who, now, run_id, objects, report)
                for made_one in made
            )
    sign = signing.maker(
        key, collector="collect", who=who, commit=commit, now=now, count=len(statements)
    )
    entries = ledger.append(store, statements, objects, checkpoint=sign) if statements else []
    _report(entries, statements, store.location, fmt)
    return entries


def _counted(root: Path, commit: str, store: Store) -> Iterator[Entry]:
    """The entries an evaluation would count: with checkpoints in force, uncovered tool evidence
    is never re-stated (reaffirming it would pass someone else's entry off as this run's)."""
    from sdl_tracker import ledger
    from sdl_tracker.conformance.assessment import counted

    every = list(ledger.entries(store))
    kept, coverage = counted(root, commit, every)
    if coverage is None:
        return iter(every)
    seqs = {r.seq for r in kept}
    return (e for e in every if e.seq in seqs)


def _cra_signed(root: Path, commit: str, store: Store) -> str:
    """The Article 14 stages closed by signed submissions, as the issues collector's option."""
    from sdl_tracker import ledger
    from sdl_tracker.conformance.assessment import cra_closing
    from sdl_tracker.conformance.evidence import records

    closing = cra_closing(root, commit, records(ledger.entries(store)))
    return json.dumps(
        [{"issue": i, "stage": s, **sent} for (i, s), sent in sorted(closing.items())],
        sort_keys=True,
    )


def _collect_one(
    collector: Collector,
    name: str,
    ctx: Context,
    last: list[Entry] | None,
    force: bool,
    run_id: str,
) -> list[Evidence | Statement]:
    if ctx.from_report is None and not force and last:
        inputs = dict(collector.inputs(ctx))
        reaffirmed = _reaffirm(last, inputs, ctx, collector)
        if reaffirmed:
            return list(reaffirmed)
    evidence = list(collector.collect(ctx))
    if ctx.from_report is None:
        inputs = dict(collector.inputs(ctx))
        evidence = [e if e.inputs else replace(e, inputs=inputs) for e in evidence]
    return list(evidence)


def _reaffirm(
    last: list[Entry], inputs: Mapping[str, str], ctx: Context, collector: Collector
) -> list[Statement]:
    """Re-state the last run's evidence when nothing it read has changed and it has not expired.

    Incomplete evidence is never reaffirmed: the tool runs again.
    """
    from sdl_tracker.models import ResultStatus

    if not inputs:
        return []
    max_age = ctx.config.get("max_age_hours", getattr(collector, "MAX_AGE_HOURS", None))
    statements = [e.statement() for e in last]
    for st in statements:
        p = st.predicate
        if dict(p.inputs) != dict(inputs) or p.result.status is ResultStatus.INCOMPLETE:
            return []
        if max_age is not None and ctx.now - p.recorded_at > timedelta(hours=float(max_age)):
            return []
    result = []
    for entry, st in zip(last, statements):
        p = st.predicate
        original = p.details.get("reaffirms", entry.seq)
        summary = p.result.summary.removeprefix("reaffirmed: ")
        result.append(
            replace(
                st,
                predicate=replace(
                    p,
                    result=replace(p.result, summary=f"reaffirmed: {summary}"),
                    details={**p.details, "reaffirms": original},
                ),
            )
        )
    return result


def _latest_runs(entries: Iterator[Entry], names: Sequence[str]) -> dict[str, list[Entry]]:
    """For each collector, the entries of its most recent run (same `details.run`)."""

    wanted = set(names)
    runs: dict[str, tuple[str, list[Entry]]] = {}
    for entry in entries:
        p = entry.statement().predicate
        if p.collector not in wanted:
            continue
        run_id = str(p.details.get("run", entry.seq))
        current = runs.get(p.collector)
        if current is None or current[0] != run_id:
            runs[p.collector] = (run_id, [entry])
        else:
            current[1].append(entry)
    return {name: found for name, (_, found) in runs.items()}


def _statement(
    made: Evidence | Statement,
    name: str,
    commit: str,
    who: str,
    now: datetime,
    run_id: str,
    objects: dict[str, bytes],
    report: str | None,
) -> Statement:
    """The ledger statement; `report` is the digest of an ingested report (`--from-report`)."""
    from sdl_tracker import ledger
    from sdl_tracker.models import Predicate, Provenance, Statement

    provenance = Provenance.VERIFIED if report is None else Provenance.INGESTED

    if isinstance(made, Statement):
        p = made.predicate
        return replace(
            made,
            commit=commit,
            predicate=replace(
                p,
                recorded_by=who,
                recorded_at=now,
                details={**p.details, "run": run_id},
                provenance=p.provenance or provenance,
            ),
        )
    artifacts = []
    for artifact_name, data in made.artifacts:
        subject, blob = ledger.artifact(artifact_name, data)
        objects[subject.sha256] = blob
        artifacts.append(subject)
    return Statement(
        commit=commit,
        artifacts=tuple(artifacts),
        predicate=Predicate(
            kind=made.kind,
            collector=name,
            tool=made.tool,
            requirements=made.requirements,
            result=made.result,
            covers=made.covers,
            inputs=made.inputs if report is None else {**made.inputs, "report": report},
            details={**made.details, "run": run_id},
            recorded_by=who,
            recorded_at=now,
            provenance=provenance,
        ),
    )


def _report_digest(path: Path) -> str:
    """`sha256:<hex>` of the report ingested, read in chunks (the collector parsed it already)."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        raise InputError(f"--from-report {path}: cannot read ({e.strerror})") from e
    return f"sha256:{digest.hexdigest()}"


def _report(
    entries: Sequence[Entry], statements: Sequence[Statement], location: str, fmt: str
) -> None:
    if fmt == "json":
        output.write_json([e.to_json() for e in entries])
    for st in statements:
        p = st.predicate
        status = p.result.status.value
        label = output.field(f"{p.collector}: {p.kind} ({p.tool.name} {p.tool.version})")
        output.err(output.status_line(label, status.capitalize(), _STATUS_COLOR[status]))
        output.err(f"- {output.field(p.result.summary)}")
    signed = len(entries) - len(statements)
    note = f" (the last a checkpoint signing entry {entries[-2].seq})" if signed else ""
    output.err(f"appended {len(entries)} entries to {location}{note}")
