"""`sdl-tracker ledger log|show|cat|verify|push|pull|sync`: read, check and share the ledger."""

from __future__ import annotations

import argparse
import os
import re
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import ChainError, InputError

if TYPE_CHECKING:
    from sdl_tracker.ledger import replicate
    from sdl_tracker.ledger.chain import Entry
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
    return verify(ws=ws, fmt=args.format)


def log(*, ws: Workspace, fmt: str) -> int:
    from sdl_tracker import ledger

    store = ws.store()
    if fmt == "json":
        output.write_json([e.to_json() for e in ledger.entries(store)])
        return 0
    count = 0
    for entry in ledger.entries(store):
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

    for entry in ledger.entries(ws.store()):
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


def verify(*, ws: Workspace, fmt: str) -> int:
    from sdl_tracker import ledger

    store = ws.store()
    try:
        report = ledger.verify(store)
    except ChainError as e:
        if fmt == "json":
            output.write_json({"ok": False, "entry": e.seq, "where": e.where, "reason": e.reason})
        output.err(output.status_line(f"ledger {store.location}", "Failed", "red"))
        output.err(f"- entry {e.seq} ({e.where}): {e.reason}")
        return 1
    if fmt == "json":
        output.write_json({"ok": True, "entries": report.entries, "artifacts": report.objects})
    output.err(output.status_line(f"ledger {store.location}", "Passed", "green"))
    output.err(
        f"- {report.entries} entries, {report.objects} artifacts, chain and digests verified"
    )
    return 0


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
