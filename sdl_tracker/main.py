"""The `sdl-tracker` command: argparse parser, dispatch, and the one place errors become exits."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from sdl_tracker import __version__, output
from sdl_tracker.errors import SdlError

EXIT_CODES = """\
exit codes:
  0    ok (all checks passed)
  1    a check failed (ledger verify, gate)
  2    bad invocation or input (arguments, configuration, policy, reports, ledger)
  3    unexpected internal error (a bug: please report it, with --verbose output)
  130  interrupted
"""

Handler = Callable[[argparse.Namespace], int]


def _common(parser: argparse.ArgumentParser) -> None:
    """Options every sub-command accepts (after the sub-command name)."""
    parser.add_argument(
        "--repo",
        "-C",
        type=Path,
        default=Path(os.environ.get("SDL_TRACKER_REPO", ".")),
        help="the git repository to work on (default: the current directory)",
    )
    parser.add_argument(
        "--ledger-dir",
        type=Path,
        default=Path(os.environ["SDL_TRACKER_LEDGER_DIR"])
        if os.environ.get("SDL_TRACKER_LEDGER_DIR")
        else None,
        help="keep the ledger in this directory instead of the git branch "
        "(env SDL_TRACKER_LEDGER_DIR)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=os.environ.get("SDL_TRACKER_COLOR", "auto"),
        help="colour on stderr: auto = only on a terminal (env SDL_TRACKER_COLOR)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="tracebacks for bugs")


def _format(parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")) -> None:
    env = os.environ.get("SDL_TRACKER_FORMAT", "")
    parser.add_argument(
        "--format",
        choices=choices,
        default=env if env in choices else choices[0],
        help=f"{' | '.join(choices)}: text is for people (stderr), the others for machines "
        "(stdout); env SDL_TRACKER_FORMAT",
    )


def _workspace(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sdl_tracker.workspace import open_workspace

    return open_workspace(args.repo, ledger_dir=args.ledger_dir)


def _catalog(args: argparse.Namespace) -> int:
    from sdl_tracker.commands import catalog

    return catalog.run(practice=args.practice, fmt=args.format, catalog_id=args.catalog)


def _init(args: argparse.Namespace) -> int:
    from sdl_tracker.commands import init

    return init.run(ws=_workspace(args), branch=args.branch, pyproject=args.pyproject)


def _record(args: argparse.Namespace) -> int:
    from sdl_tracker.commands import record

    return record.run(
        ws=_workspace(args),
        kind=args.kind,
        file=args.file,
        requirements=args.requirement,
        note=args.note,
        status=args.status,
        summary=args.summary,
        fmt=args.format,
    )


def _ledger(args: argparse.Namespace) -> int:
    from sdl_tracker.commands import ledger

    ws = _workspace(args)
    if args.ledger_command == "log":
        return ledger.log(ws=ws, fmt=args.format)
    if args.ledger_command == "show":
        return ledger.show(ws=ws, seq=args.seq, fmt=args.format)
    if args.ledger_command == "cat":
        return ledger.cat(ws=ws, digest=args.digest)
    return ledger.verify(ws=ws, fmt=args.format)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdl-tracker",
        description="IEC 62443-4-1 secure development lifecycle evidence from a git repository.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sdl-tracker {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("catalog", help="list the requirements, grouped by practice")
    p.add_argument("--practice", help="only this practice (SM, SR, SD, SI, SVV, DM, SUM, SG)")
    p.add_argument("--catalog", default="iec62443-4-1:2018", help="catalogue id")
    _format(p)
    _common(p)
    p.set_defaults(handler=_catalog)

    p = sub.add_parser("init", help="write the configuration and create the ledger")
    p.add_argument("--branch", help="ledger branch name (default sdl-ledger)")
    p.add_argument(
        "--pyproject",
        action="store_true",
        help="write [tool.sdl-tracker] into pyproject.toml instead of .sdl-tracker.toml",
    )
    _common(p)
    p.set_defaults(handler=_init)

    p = sub.add_parser("record", help="record an attestation: a file, a signer, a date")
    p.add_argument("kind", help="evidence kind, e.g. pentest_report, training_record")
    p.add_argument("file", type=Path, help="the file to store (report, PDF, record)")
    p.add_argument(
        "--requirement",
        "-r",
        action="append",
        default=[],
        metavar="ID",
        help="requirement it supports (repeatable; default: every requirement "
        "whose evidence includes KIND)",
    )
    p.add_argument("--note", default="", help="free text kept with the entry")
    p.add_argument("--summary", help="one-line summary (default: '<kind> attested: <file>')")
    p.add_argument(
        "--status",
        choices=("pass", "fail", "info", "incomplete"),
        default="pass",
        help="result the attestation reports (default pass)",
    )
    _format(p)
    _common(p)
    p.set_defaults(handler=_record)

    p = sub.add_parser("ledger", help="read and verify the ledger")
    lsub = p.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND")
    lsub.required = True
    q = lsub.add_parser("log", help="one line per entry: seq, time, kind, requirements, digest")
    _format(q)
    _common(q)
    q = lsub.add_parser("show", help="one entry, whole")
    q.add_argument("seq", type=int, help="the entry's sequence number")
    _format(q)
    _common(q)
    q = lsub.add_parser("cat", help="a stored artifact's bytes, to stdout")
    q.add_argument("digest", help="the artifact's SHA-256 (as `ledger show` prints it)")
    _common(q)
    q = lsub.add_parser("verify", help="recompute every hash, link and artifact digest")
    _format(q)
    _common(q)
    p.set_defaults(handler=_ledger)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output.set_color(getattr(args, "color", "auto"))
    handler: Handler = args.handler
    try:
        return handler(args)
    except SdlError as e:
        output.err(f"{output.paint('error', 'red')}: {e.diagnostics()}")
        return e.exit_code
    except KeyboardInterrupt:
        output.err("interrupted")
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error of ours; silence the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        output.err(
            f"{output.paint('error', 'red')}: unexpected error, please report it "
            "(https://github.com/sdl-tracker/sdl-tracker/issues) with the output of --verbose"
        )
        if getattr(args, "verbose", False):
            output.err(traceback.format_exc())
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
