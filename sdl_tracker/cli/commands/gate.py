"""`sdl-tracker gate`: allow or stop a release; the verdict itself is appended to the ledger.

Exit 0 when every requirement is satisfied, waived or not applicable (and, with `--ratchet`,
none is worse than at the previous release); 1 otherwise; 2 on bad input. Fails closed: missing,
stale, partial, failing and incomplete evidence all fail the gate.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options, signing
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from sdl_tracker.conformance.assessment import Assessment
    from sdl_tracker.exporters.base import Report
    from sdl_tracker.workspace import Workspace


NAME = "gate"
HELP = "allow or stop a release (exit 0 pass, 1 fail); records the verdict"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", metavar="TAG", help="the release tag to gate (default: HEAD)")
    options.policy(parser)
    options.framework(parser)
    options.what_if(parser)
    parser.add_argument(
        "--ratchet",
        action="store_true",
        help="also fail when a requirement is worse than at the previous release",
    )
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    parser.add_argument(
        "--summary", type=Path, metavar="FILE", help="write a Markdown summary here (CI step)"
    )
    options.output_format(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    options.policy_from_env(args.what_if)
    return run(
        ws=options.workspace(args),
        release=args.release,
        policy_file=args.policy,
        framework=args.framework,
        ratchet=args.ratchet,
        junit=args.junit,
        summary=args.summary,
        fmt=args.format,
        what_if=args.what_if,
        signing_key=signing.key_from_env(),
    )


def run(
    *,
    ws: Workspace,
    release: str | None,
    policy_file: Path | None,
    ratchet: bool,
    junit: Path | None,
    summary: Path | None,
    fmt: str = "text",
    now: datetime | None = None,
    framework: str = "iec62443-4-1",
    what_if: bool = False,
    signing_key: Path | None = None,
    own: frozenset[int] = frozenset(),
) -> int:
    """Judge the commit or release; without `what_if`, by the policy it holds, and append the
    verdict (with a CI key, `signing_key` else `[ledger] signing_key`, followed by a checkpoint
    signing it). A what-if is printed as such and never appended. `own`: entries the calling
    `ci` appended in this run, counted even when no checkpoint covers them."""
    from sdl_tracker import ledger
    from sdl_tracker.conformance import checkpoints, render, verdicts
    from sdl_tracker.conformance.assessment import assess
    from sdl_tracker.exporters import junit as junit_mod
    from sdl_tracker.exporters import markdown
    from sdl_tracker.exporters.base import Report
    from sdl_tracker.gitdata import git

    now = now or datetime.now(timezone.utc)
    found = assess(
        ws,
        now=now,
        policy_file=policy_file,
        release=release,
        gating=True,
        framework=framework,
        committed=not what_if,
        own=own,
    )
    key = None if what_if else signing.prepare(ws, found.store, signing_key, now)
    conf = found.conformance
    baseline = verdicts.previous(found.records, release, conf.catalog) if ratchet else None
    regressions = verdicts.regressions(conf, baseline) if baseline else ()
    passed = conf.passed and not regressions
    report = Report(
        conformance=conf,
        passed=passed,
        regressions=regressions,
        baseline=baseline.release if baseline else None,
    )
    # Reports first: a path we cannot write is bad input, and then nothing is appended.
    if junit is not None:
        _write(junit, junit_mod.render(report), "--junit")
    if summary is not None:
        _write(summary, markdown.render(report), "--summary")
    entry = None
    if not what_if:
        statement, objects = verdicts.statement(
            conf, passed=passed, ratchet=regressions, who=git.recorder(ws.repo()), now=now
        )
        sign = signing.maker(
            key, collector="gate", who=statement.predicate.recorded_by, commit=conf.commit, now=now
        )
        entry, *signed = ledger.append(found.store, [statement], objects, checkpoint=sign)
        if signed:
            output.err(f"checkpoint: entry {signed[0].seq} signs the ledger head {entry.seq}")
        elif found.trust is not None and checkpoints.ci_keys(found.trust.roster):
            output.err(
                "note: the roster names a ci key but no signing key was given: this verdict is "
                "not covered by a signed checkpoint (set SDL_TRACKER_SIGNING_KEY in CI)"
            )
    if fmt == "json":
        output.write_json(
            {
                "passed": passed,
                "what_if": what_if,
                "entry": entry.seq if entry else None,
                "conformance": conf.to_json(),
            }
        )
    output.err(render.status_text(conf))
    output.err("")
    for line in _notes(report, ratchet):
        output.err(line)
    output.err(_policy_line(found, policy_file, what_if))
    unmet = [r.requirement_id for r in conf.requirements if not r.status.passes]
    verdict = (
        output.paint("PASSED", "green")
        if passed
        else output.paint(
            f"FAILED ({len(unmet)} requirements not met"
            + (f", {len(regressions)} worse than at {report.baseline}" if regressions else "")
            + ")",
            "red",
        )
    )
    if entry is None:
        output.err(
            f"what-if {conf.release or conf.commit[:10]}: {verdict} — "
            f"{render.counts_line(conf)}; a what-if, not a release verdict: nothing recorded"
        )
    else:
        output.err(
            f"gate {conf.release or conf.commit[:10]}: {verdict} — {render.counts_line(conf)}; "
            f"verdict recorded as ledger entry {entry.seq}"
        )
    return 0 if passed else 1


def _policy_line(found: Assessment, policy_file: Path | None, what_if: bool) -> str:
    """Which policy judged: the committed files and whether their tailoring counts."""
    if what_if:
        where = ", ".join(found.policy.sources[1:] or found.policy.sources)
        return (
            f"policy (what-if): {policy_file or where}, as it is now; its tailoring counted "
            "without approval"
        )
    t = found.tailoring
    if t is None:
        return f"policy: the shipped {found.policy.name}"
    line = f"policy: committed at {found.conformance.commit[:10]}: {t.describe()}"
    if t.reverted:
        line += (
            f"; {len(t.reverted)} requirements judged by the shipped policy instead "
            f"({', '.join(t.reverted)})"
        )
    return line


def _notes(report: Report, ratchet: bool) -> list[str]:
    conf = report.conformance
    lines = [
        f"note: the waiver for {w.target} (entry {w.seq}) expired on {w.expires:%Y-%m-%d} "
        "and no longer counts"
        for w in conf.waivers
        if w.expired
    ]
    lines += [
        f"note: the waiver for {w.target} (entry {w.seq}) does not count: {w.pending}"
        for w in conf.waivers
        if w.pending and not w.expired
    ]
    if ratchet and report.baseline is None:
        lines.append("ratchet: no earlier release verdict in the ledger; nothing to compare with")
    for rid, what in report.regressions:
        lines.append(f"ratchet: {rid} is worse than at {report.baseline}: {what}")
    return lines


def _write(path: Path, text: str, option: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(
            f"{option} {path}: cannot write ({e.strerror}); give a writable path"
        ) from e
