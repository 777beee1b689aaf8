"""The `sdl-tracker` command: the parser (each command module declares its own arguments),
dispatch, and the one place errors become exits."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from sdl_tracker import __version__, output
from sdl_tracker.cli.commands import (
    advisory,
    approve,
    catalog,
    ci,
    collect,
    cra,
    explain,
    export,
    gate,
    init,
    install_hooks,
    keygen,
    ledger,
    org,
    record,
    sbom,
    status,
    waive,
)
from sdl_tracker.errors import SdlError

EXIT_CODES = """\
exit codes:
  0    ok (all checks passed)
  1    a check failed (ledger verify, gate)
  2    bad invocation or input (arguments, configuration, policy, reports, ledger)
  3    unexpected internal error (a bug: please report it, with --verbose output)
  130  interrupted
"""

COMMANDS = (
    catalog,
    init,
    record,
    ledger,
    collect,
    install_hooks,
    sbom,
    status,
    explain,
    gate,
    waive,
    approve,
    ci,
    org,
    export,
    keygen,
    advisory,
    cra,
)


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
    for command in COMMANDS:
        command.add_arguments(sub.add_parser(command.NAME, help=command.HELP))
        sub.choices[command.NAME].set_defaults(handler=command.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output.set_color(getattr(args, "color", "auto"))
    handler: Callable[[argparse.Namespace], int] = args.handler
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
