"""`sdl-tracker ledger log|show|cat|verify|push|pull|sync`: read, check and share the ledger."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import ChainError, HistoryError, InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sdl_tracker.conformance import checkpoints
    from sdl_tracker.formats.roster import Roster
    from sdl_tracker.ledger import replicate
    from sdl_tracker.ledger.chain import Entry, Head, Segment, VerifyReport
    from sdl_tracker.ledger.store import Store
    from sdl_tracker.workspace import Workspace

_SHA256 = re.compile(r"^(sha256:)?([0-9a-f]{64})$")


NAME = "ledger"
HELP = "read and verify the ledger"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND")
    sub.required = True
    p = sub.add_parser("log", help="one line per entry: seq, time, kind, requirements, digest")
    options.output_format(p)
    options.common(p)
    p = sub.add_parser("show", help="one entry, whole")
    p.add_argument("seq", type=int, help="the entry's sequence number")
    options.output_format(p)
    options.common(p)
    p = sub.add_parser("cat", help="a stored artifact's bytes, to stdout")
    p.add_argument("digest", help="the artifact's SHA-256 (as `ledger show` prints it)")
    options.common(p)
    p = sub.add_parser("verify", help="recompute every hash, link and artifact digest")
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="an entry seen elsewhere that the ledger must still hold (repeatable)",
    )
    p.add_argument(
        "--expect-from",
        action="append",
        default=[],
        type=Path,
        metavar="PACKAGE.zip",
        help="the last entry of an exported evidence package must still be held (repeatable)",
    )
    p.add_argument(
        "--all-signatures",
        action="store_true",
        help="check every checkpoint's signature, not only the newest good one's (which "
        "vouches for every byte before it)",
    )
    options.output_format(p)
    options.common(p)
    p = sub.add_parser("push", help="copy this repository's ledger into PostgreSQL")
    p.add_argument("--to", metavar="URL", help="postgresql://… (default: --ledger / [ledger] url)")
    options.output_format(p)
    options.common(p)
    p = sub.add_parser("pull", help="copy this repository's chain from PostgreSQL back here")
    p.add_argument(
        "--from", dest="source", metavar="URL", help="postgresql://… (default: --ledger)"
    )
    options.output_format(p)
    options.common(p)
    p = sub.add_parser(
        "sync",
        help="share the ledger branch through a git remote: fetch, replay local entries, push",
    )
    p.add_argument(
        "--remote",
        default=os.environ.get("SDL_TRACKER_REMOTE"),
        help="the git remote (default: [ledger] remote, else origin)",
    )
    options.common(p)


def main(args: argparse.Namespace) -> int:
    ws = options.workspace(args)
    if args.ledger_command == "log":
        return log(ws=ws, fmt=args.format)
    if args.ledger_command == "show":
        return show(ws=ws, seq=args.seq, fmt=args.format)
    if args.ledger_command == "cat":
        return cat(ws=ws, digest=args.digest)
    if args.ledger_command == "push":
        return push(ws=ws, url=args.to, fmt=args.format)
    if args.ledger_command == "pull":
        return pull(ws=ws, url=args.source, fmt=args.format)
    if args.ledger_command == "sync":
        return sync(ws=ws, remote=args.remote)
    anchors = [_anchor(text) for text in args.expect]
    anchors += [_package_anchor(path) for path in args.expect_from]
    return verify(ws=ws, fmt=args.format, anchors=anchors, every=args.all_signatures)


def _anchor(text: str) -> Head:
    from sdl_tracker.ledger.chain import Head

    seq, _, digest = text.partition(":")
    match = _SHA256.match(digest.lower())
    if not seq.isdigit() or int(seq) < 1 or not match:
        raise InputError(
            f"--expect {text!r}: expected SEQ:HASH, an entry number and its 64-hex-digit hash "
            "(as `sdl-tracker ledger log` or an evidence package's ledger/entries.jsonl shows)"
        )
    return Head(seq=int(seq), hash=match.group(2))


def _package_anchor(path: Path) -> Head:
    """The last entry of an evidence package's ledger slice, read line by line."""
    import zipfile

    from sdl_tracker.ledger import chain
    from sdl_tracker.ledger.chain import Head

    last = b""
    try:
        with zipfile.ZipFile(path) as z, z.open("ledger/entries.jsonl") as f:
            for line in f:
                if line.strip():
                    last = line.rstrip(b"\n")
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise InputError(
            f"--expect-from {path}: not an evidence package with ledger/entries.jsonl ({e})"
        ) from e
    if not last:
        raise InputError(f"--expect-from {path}: its ledger slice is empty")
    try:
        entry = chain.parse(last, f"{path}:ledger/entries.jsonl")
    except ChainError as e:
        raise InputError(f"--expect-from {path}: {e.reason}") from e
    return Head(seq=entry.seq, hash=entry.hash)


def log(*, ws: Workspace, fmt: str) -> int:
    from sdl_tracker import ledger

    store = ws.store()
    if fmt == "json":
        output.write_json([e.to_json() for e in ledger.unverified_entries(store)])
        return 0
    count = 0
    for entry in ledger.unverified_entries(store):
        p = entry.statement().predicate
        reqs = ",".join(p.requirements) or "-"
        output.err(
            f"{entry.seq:>6}  {p.recorded_at:%Y-%m-%d %H:%M:%S}  {p.kind:<20} "
            f"{p.result.status.value:<10} {reqs:<24} {entry.hash[:12]}"
        )
        count += 1
    output.err(f"{count} entries in {store.location}")
    return 0


def show(*, ws: Workspace, seq: int, fmt: str) -> int:
    entry = _find(ws, seq)
    if fmt == "json":
        output.write_json(entry.to_json())
        return 0
    st = entry.statement()
    p = st.predicate
    lines = [
        f"entry {entry.seq}",
        f"hash:         {entry.hash}",
        f"prev:         {entry.prev}",
        f"kind:         {p.kind} (collector {p.collector}, {p.tool.name} {p.tool.version})",
        f"requirements: {', '.join(p.requirements) or '-'}",
        f"result:       {p.result.status.value}: {p.result.summary}",
    ]
    if p.result.metrics:
        metrics = ", ".join(f"{k}={v}" for k, v in p.result.metrics.items())
        lines.append(f"metrics:      {metrics}")
    lines.append(f"commit:       {st.commit or '-'}")
    lines.extend(f"artifact:     {a.name} sha256:{a.sha256}" for a in st.artifacts)
    if p.covers:
        lines.append(f"covers:       {', '.join(p.covers)}")
    if p.note:
        lines.append(f"note:         {p.note}")
    lines.append(f"recorded:     {p.recorded_at:%Y-%m-%dT%H:%M:%SZ} by {p.recorded_by}")
    output.err("\n".join(lines))
    return 0


def _find(ws: Workspace, seq: int) -> Entry:
    from sdl_tracker import ledger

    for entry in ledger.unverified_entries(ws.store()):
        if entry.seq == seq:
            return entry
    raise InputError(f"no entry {seq} in the ledger (`sdl-tracker ledger log` lists them)")


def cat(*, ws: Workspace, digest: str) -> int:
    match = _SHA256.match(digest.lower())
    if not match:
        raise InputError(f"{digest!r} is not a SHA-256 digest (64 hex digits, optional sha256:)")
    data = ws.store().read_object(match.group(2))
    if data is None:
        raise InputError(f"no artifact sha256:{match.group(2)} in the ledger")
    output.write_bytes(data)
    return 0


def verify(*, ws: Workspace, fmt: str, anchors: Sequence[Head] = (), every: bool = False) -> int:
    """The chain, then the signatures: checkpoints (a CI key's over the head) and attestations
    (people's), against the roster committed at HEAD. Exit 1 on a broken chain, a bad
    checkpoint, a bad signature, or no good checkpoint when the roster names a ci key."""
    from sdl_tracker import ledger

    store = ws.store()
    roster = _head_roster(ws)
    try:
        report, marks, sigs = check_all(store, roster, every=every)
        if anchors:
            ledger.holds(store, anchors)
    except ChainError as e:
        if fmt == "json":
            output.write_json({"ok": False, "entry": e.seq, "where": e.where, "reason": e.reason})
        output.err(output.status_line(f"ledger {store.location}", "Failed", "red"))
        if isinstance(e, HistoryError):
            output.err(f"- {e.where}: {e.reason}")
        else:
            output.err(f"- entry {e.seq} ({e.where}): {e.reason}")
        return 1
    # Outside a repository (a directory ledger checked alone) there is no roster to judge the
    # signers by: said, not failed. Inside one, checkpoints without a roster are bad.
    bad, problems = signature_problems(report, marks, sigs, roster, judged=ws.root is not None)
    unjudged = len(marks.bad) - len(bad)
    ok = not problems
    if fmt == "json":
        output.write_json(
            {
                "ok": ok,
                "entries": report.entries,
                "artifacts": report.objects,
                "checkpoints": _checkpoints_json(marks, bad),
                "attestations": {
                    "verified": sigs.verified,
                    "unsigned": sigs.unsigned,
                    "unknown_signer": len(sigs.unknown),
                    "bad": [{"entry": seq, "reason": why} for seq, why in sigs.bad],
                },
                "problems": problems,
            }
        )
    colour = ("Passed", "green") if ok else ("Failed", "red")
    output.err(output.status_line(f"ledger {store.location}", *colour))
    output.err(
        f"- chain ok: {report.entries} entries, {report.objects} artifacts, hashes, links and "
        "digests verified"
    )
    for line in _checkpoint_lines(marks, roster is not None):
        output.err(line)
    if unjudged:
        output.err(
            f"- {unjudged} checkpoint signatures not judged: no repository here, so no roster; "
            "run `sdl-tracker ledger verify` in the repository (-C PATH) to check them"
        )
    output.err(
        f"- attestations: {sigs.verified} signed (signature verified), {sigs.unsigned} "
        f"unsigned, {len(sigs.bad)} bad signatures"
        + (f", {len(sigs.unknown)} signatures by keys not in the roster" if sigs.unknown else "")
    )
    for anchor in anchors:
        output.err(f"- holds entry {anchor.seq} ({anchor.hash[:12]}…) as expected")
    for problem in problems:
        output.err(output.paint(f"- {problem}", "red"))
    return 0 if ok else 1


def check_all(
    store: Store, roster: Roster | None, *, every: bool = False, mailmap: Path | None = None
) -> tuple[VerifyReport, checkpoints.Report, Attestations]:
    """`ledger verify`'s work: the chain (ChainError naming the first bad entry), then, from
    the entries it picked out on the way, the checkpoints and the attestation signatures
    (`mailmap`: the repository whose `.mailmap` joins people's addresses for the waivers'
    approvals; None: no `.mailmap`)."""
    from sdl_tracker import ledger
    from sdl_tracker.conformance import checkpoints

    found: list[Entry] = []
    people: list[Entry] = []

    def visit(segment: Segment) -> None:
        for entry in ledger.find_lines(segment, (checkpoints.MARK, *_PERSON_MARKS)):
            (found if checkpoints.is_checkpoint(entry) else people).append(entry)

    report = ledger.verify(store, visit=visit)
    marks = checkpoints.report(found, report.entries, roster, every=every)
    return report, marks, _attestations(people, roster, found, mailmap)


def signature_problems(
    report: VerifyReport,
    marks: checkpoints.Report,
    sigs: Attestations,
    roster: Roster | None,
    *,
    judged: bool = True,
) -> tuple[list[checkpoints.Checked], list[str]]:
    """The bad checkpoints and one sentence per problem `check_all` found (`ledger verify`
    fails on any); `judged`: False where no roster can exist, so a checkpoint bad only for the
    lack of one is not a problem."""
    from sdl_tracker.conformance import checkpoints

    bad = [c for c in marks.bad if judged or c.why != checkpoints.NO_ROSTER]
    problems = [f"checkpoint entry {c.seq} is bad: {c.why}" for c in bad]
    problems += [f"signature entry {seq} is bad: {why}" for seq, why in sigs.bad]
    if marks.missing:
        problems.append(
            f"no good checkpoint although {roster.source if roster else ''} names a ci key: "
            f"none of the {report.entries} entries is covered (checkpoints removed by a "
            "re-chaining, or CI never signed); run `sdl-tracker ci` with the CI key"
        )
    return bad, problems


#: Bytes of entries a person made (`record`, `waive`, `approve`): attestations and signatures.
_PERSON_MARKS = (b'"collector":"record"', b'"collector":"waive"', b'"collector":"approve"')


def _head_roster(ws: Workspace) -> Roster | None:
    from sdl_tracker.conformance.trust import read_roster
    from sdl_tracker.gitdata import git

    if ws.root is None:
        return None
    commit = git.resolve(ws.root, "HEAD")
    return read_roster(ws.root, commit) if commit else None


def _checkpoint_lines(marks: checkpoints.Report, have_roster: bool) -> list[str]:
    from sdl_tracker.conformance import checkpoints

    last = marks.last_good
    lines = [
        f"- checkpoints: {len(marks.good)} verified, {len(marks.bad)} bad"
        + (f", {len(marks.superseded)} by retired keys" if marks.superseded else "")
        + (
            f" (each one's place; signatures: {vouched} vouched for by the newest good one)"
            if (vouched := sum(1 for c in marks.good if c.signer == checkpoints.VOUCHED))
            else ""
        )
    ]
    if not marks.checked:
        lines[0] = "- checkpoints: none (unsigned ledger: no CI key signed its head)"
    elif not have_roster:
        lines.append("  (no sdl-roster.yaml committed at HEAD: no signer can be checked)")
    if last is not None:
        lines.append(
            f"- entries 1..{last.seq - 1} covered by checkpoint entry {last.seq} ({last.signer})"
        )
    if marks.uncovered and marks.checked:
        lines.append(
            f"- {marks.uncovered} entries after the last good checkpoint are not covered "
            "(appended without the CI key, e.g. by hooks or `record`; the next signed "
            "`sdl-tracker ci` covers them)"
        )
    return lines


def _checkpoints_json(
    marks: checkpoints.Report, bad: Sequence[checkpoints.Checked]
) -> dict[str, object]:
    last = marks.last_good
    return {
        "verified": len(marks.good),
        "bad": [{"entry": c.seq, "reason": c.why} for c in bad],
        "unjudged": [c.seq for c in marks.bad if c not in bad],
        "superseded": [c.seq for c in marks.superseded],
        "covered_up_to": last.seq - 1 if last is not None else 0,
        "uncovered": marks.uncovered,
        "ci_keys": marks.ci_keys,
    }


@dataclass(frozen=True)
class Attestations:
    verified: int
    unsigned: int
    bad: tuple[tuple[int, str], ...]
    unknown: tuple[int, ...]
    approvals: tuple[tuple[int, str, str], ...] = ()
    """Each waiver's (entry, approver, why not): the roster approver whose signature approves
    it ('' when none does, and why), judged as the gate judges it (`.mailmap` only when
    `check_all` is given the repository)."""


def _attestations(
    found: Sequence[Entry],
    roster: Roster | None,
    marks: Sequence[Entry] = (),
    mailmap: Path | None = None,
) -> Attestations:
    """People's statements and their signatures, checked as the judge checks them (a signature
    by a key the roster does not name is counted apart: a person may have left the roster)."""
    from sdl_tracker.conformance import signatures, trust
    from sdl_tracker.conformance.evidence import records

    recs = records(found)
    report = trust.check(recs, roster, records(marks))
    statements = [r for r in recs if r.statement.predicate.kind != signatures.KIND]
    signed = report.signed
    bad, unknown = [], []
    for c in report.bad:
        if c.target is not None and any(m in c.why for m in _UNKNOWN):
            unknown.append(c.seq)
        else:
            bad.append((c.seq, c.why))
    joined = trust.read_mailmap(mailmap, roster, recs) if mailmap is not None else {}
    approvals = trust.approvals(trust.Trust(roster=roster, report=report, mailmap=joined), recs)
    return Attestations(
        verified=sum(1 for r in statements if r.seq in signed),
        unsigned=sum(1 for r in statements if r.seq not in signed),
        bad=tuple(bad),
        unknown=tuple(unknown),
        approvals=tuple((seq, a.approver or "", a.why) for seq, a in sorted(approvals.items())),
    )


#: Reasons that say who signed is unknown here, not that the signature is wrong.
_UNKNOWN = ("is not in the roster", "not in gpg's keyring", "names the signer's key")


def push(*, ws: Workspace, url: str | None, fmt: str) -> int:
    """Copy the repository's own ledger (git branch or directory) into PostgreSQL."""
    from sdl_tracker.ledger import replicate

    result = replicate.replicate(ws.local_store(), ws.pg_store(url))
    _replicated(result, fmt, "push", "pull --from")
    return 0


def pull(*, ws: Workspace, url: str | None, fmt: str) -> int:
    """Copy this repository's chain from PostgreSQL into its own ledger."""
    from sdl_tracker.ledger import replicate

    result = replicate.replicate(ws.pg_store(url), ws.local_store())
    _replicated(result, fmt, "pull", "push --to")
    return 0


def _replicated(result: replicate.Replication, fmt: str, verb: str, other: str) -> None:
    if fmt == "json":
        output.write_json(
            {
                "source": result.source,
                "target": result.target,
                "copied": result.copied,
                "artifacts": result.artifacts,
                "entries": result.entries,
                "ahead": result.ahead,
            }
        )
    done = "up to date" if not result.copied else f"copied {result.copied} entries"
    output.err(output.status_line(f"ledger {verb}: {done}", "Passed", "green"))
    output.err(f"- from {result.source}")
    output.err(
        f"- to {result.target}: {result.entries} entries, {result.artifacts} artifacts sent, "
        "both chains verified"
    )
    if result.ahead:
        output.err(
            f"- the target holds {result.ahead} entries the source lacks (left alone): "
            f"`sdl-tracker ledger {other} URL` brings them the other way"
        )


def sync(*, ws: Workspace, remote: str | None) -> int:
    """Fetch the remote's ledger branch, replay local-only entries on top, push (never force).

    Developers run it to share what their hooks recorded (e.g. `hook_run` entries of commits
    made with --no-verify) with CI.
    """
    from sdl_tracker.ledger import sync as sync_mod
    from sdl_tracker.ledger.gitstore import GitStore

    store = ws.store()
    if not isinstance(store, GitStore):
        raise InputError(f"{store.location} is not a git branch: nothing to sync with a remote")
    name = remote or ws.config.remote or "origin"
    result = sync_mod.push(store, name)
    output.err(
        f"ledger: {store.branch} synced with {name}: {result.fetched} entries fetched, "
        f"{result.replayed} local entries replayed on top, pushed"
    )
    return 0
