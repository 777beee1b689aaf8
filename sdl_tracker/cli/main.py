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
        "--ledger",
        metavar="URL",
        default=os.environ.get("SDL_TRACKER_LEDGER") or None,
        help="a central ledger on PostgreSQL, postgresql://USER@HOST/DBNAME "
        "(env SDL_TRACKER_LEDGER; config [ledger] url)",
    )
    parser.add_argument(
        "--repo-name",
        metavar="NAME",
        default=os.environ.get("SDL_TRACKER_REPO_NAME") or None,
        help="this repository's chain in the central ledger (env SDL_TRACKER_REPO_NAME; "
        "default: [ledger] repo_name, else origin's name, else the directory's)",
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

    return open_workspace(
        args.repo, ledger_dir=args.ledger_dir, ledger_url=args.ledger, repo_name=args.repo_name
    )


def _catalog(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import catalog

    return catalog.run(practice=args.practice, fmt=args.format, catalog_id=args.catalog)


def _init(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import init

    return init.run(ws=_workspace(args), branch=args.branch, pyproject=args.pyproject)


def _record(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import record

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
    from sdl_tracker.cli.commands import ledger

    ws = _workspace(args)
    if args.ledger_command == "log":
        return ledger.log(ws=ws, fmt=args.format)
    if args.ledger_command == "show":
        return ledger.show(ws=ws, seq=args.seq, fmt=args.format)
    if args.ledger_command == "cat":
        return ledger.cat(ws=ws, digest=args.digest)
    if args.ledger_command == "push":
        return ledger.push(ws=ws, url=args.to, fmt=args.format)
    if args.ledger_command == "pull":
        return ledger.pull(ws=ws, url=args.source, fmt=args.format)
    if args.ledger_command == "sync":
        return ledger.sync(ws=ws, remote=args.remote)
    return ledger.verify(ws=ws, fmt=args.format)


def _collect(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import collect

    only = [n.strip() for part in args.only for n in part.split(",") if n.strip()]
    options = {
        key: str(value)
        for key, value in (
            ("osv_url", args.osv_url),
            ("osv_db", args.osv_db),
            ("since", args.since),
            ("all", "1" if args.all else None),
            ("release", args.release),
        )
        if value
    }
    return collect.run(
        ws=_workspace(args),
        only=only,
        from_report=args.from_report,
        options=options,
        force=args.force,
        fmt=args.format,
    )


def _install_hooks(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import install_hooks
    from sdl_tracker.gitdata import git

    return install_hooks.run(root=git.toplevel(args.repo), force=args.force)


def _sbom(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import sbom

    return sbom.diff(ws=_workspace(args), ref1=args.ref1, ref2=args.ref2, fmt=args.format)


def _sign_arg(parser: argparse.ArgumentParser, text: str) -> None:
    env = os.environ.get("SDL_TRACKER_SIGNING_KEY")
    parser.add_argument(
        "--sign",
        type=Path,
        metavar="KEYFILE",
        default=Path(env) if env else None,
        help=f"{text} (env SDL_TRACKER_SIGNING_KEY)",
    )


def _policy_arg(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get("SDL_TRACKER_POLICY")
    parser.add_argument(
        "--policy",
        type=Path,
        default=Path(env) if env else None,
        metavar="FILE",
        help="policy file (env SDL_TRACKER_POLICY; default: `policy` in the configuration, "
        "else the shipped iec62443-4-1 policy)",
    )


def _status(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import status

    return status.run(
        ws=_workspace(args), commit=args.commit, policy_file=args.policy, fmt=args.format
    )


def _explain(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import explain

    return explain.run(
        ws=_workspace(args),
        requirement=args.requirement,
        commit=args.commit,
        policy_file=args.policy,
        fmt=args.format,
    )


def _gate(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import gate

    return gate.run(
        ws=_workspace(args),
        release=args.release,
        policy_file=args.policy,
        ratchet=args.ratchet,
        junit=args.junit,
        summary=args.summary,
        fmt=args.format,
    )


def _waive(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import waive

    return waive.run(
        ws=_workspace(args),
        target=args.target,
        reason=args.reason,
        expires=args.expires,
        approver=args.approver,
        fmt=args.format,
    )


def _ci(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import ci

    return ci.run(
        ws=_workspace(args),
        release=args.release,
        remote=args.remote,
        out=args.out,
        push=not args.no_push,
        policy_file=args.policy,
        ratchet=args.ratchet,
        sign=args.sign,
    )


def _org(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import org

    url = org.ledger_url(args.ledger, args.repo)
    names = [n.strip() for part in args.only for n in part.split(",") if n.strip()]
    if args.org_command == "export":
        return org.export(url=url, names=names, within=args.within, out=args.out)
    return org.status(url=url, names=names, within=args.within, fmt=args.format)


def _export(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import export

    return export.run(
        ws=_workspace(args),
        release=args.release,
        out=args.out,
        fmt=args.format,
        sign=args.sign,
        policy_file=args.policy,
    )


def _keygen(args: argparse.Namespace) -> int:
    from sdl_tracker.cli.commands import keygen

    return keygen.run(out=args.out)


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
    q = lsub.add_parser("push", help="copy this repository's ledger into PostgreSQL")
    q.add_argument("--to", metavar="URL", help="postgresql://… (default: --ledger / [ledger] url)")
    _format(q)
    _common(q)
    q = lsub.add_parser("pull", help="copy this repository's chain from PostgreSQL back here")
    q.add_argument(
        "--from", dest="source", metavar="URL", help="postgresql://… (default: --ledger)"
    )
    _format(q)
    _common(q)
    q = lsub.add_parser(
        "sync",
        help="share the ledger branch through a git remote: fetch, replay local entries, push",
    )
    q.add_argument(
        "--remote",
        default=os.environ.get("SDL_TRACKER_REMOTE"),
        help="the git remote (default: [ledger] remote, else origin)",
    )
    _common(q)
    p.set_defaults(handler=_ledger)

    p = sub.add_parser(
        "collect", help="run the evidence collectors at HEAD and append their evidence"
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAMES",
        help="comma-separated collectors to run (default: all, or `enabled` in [collect])",
    )
    p.add_argument(
        "--from-report",
        type=Path,
        metavar="FILE",
        help="ingest a report made elsewhere instead of running the tool (needs one --only)",
    )
    p.add_argument(
        "--osv-url",
        default=os.environ.get("SDL_TRACKER_OSV_URL"),
        help="deps: an OSV-compatible query endpoint, e.g. http://mirror/v1/query",
    )
    p.add_argument(
        "--osv-db",
        type=Path,
        default=os.environ.get("SDL_TRACKER_OSV_DB"),
        help="deps: an offline OSV database directory (OSV JSON/YAML records)",
    )
    p.add_argument("--since", metavar="REF", help="review/signatures: start of the commit range")
    p.add_argument("--all", action="store_true", help="review/signatures: the whole history")
    p.add_argument("--release", metavar="TAG", help="the release tag being collected for")
    p.add_argument("--force", action="store_true", help="re-run every tool, even if unchanged")
    _format(p)
    _common(p)
    p.set_defaults(handler=_collect)

    p = sub.add_parser(
        "install-hooks",
        help="install plain git hooks (pre-commit, commit-msg, post-commit, pre-push)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace other tools' hooks (a backup is kept)"
    )
    _common(p)
    p.set_defaults(handler=_install_hooks)

    p = sub.add_parser("sbom", help="compare recorded SBOMs")
    ssub = p.add_subparsers(dest="sbom_command", metavar="SUBCOMMAND")
    ssub.required = True
    q = ssub.add_parser(
        "diff",
        help="components added, removed and changed between two recorded SBOMs",
        description="REF: a ledger entry seq, an SBOM artifact SHA-256 (a unique prefix, or "
        "sha256:PREFIX), or a git tag or commit (the latest SBOM recorded on it).",
    )
    q.add_argument("ref1", metavar="REF1", help="the older SBOM")
    q.add_argument("ref2", metavar="REF2", help="the newer SBOM")
    _format(q, ("text", "json", "markdown"))
    _common(q)
    p.set_defaults(handler=_sbom)

    p = sub.add_parser(
        "status", help="every requirement's status for a commit, grouped by practice, with ML"
    )
    p.add_argument("--commit", metavar="REV", help="the commit to evaluate (default HEAD)")
    _policy_arg(p)
    _format(p, ("table", "json", "markdown"))
    _common(p)
    p.set_defaults(handler=_status)

    p = sub.add_parser(
        "explain", help="one requirement: the rule, the evidence that counted or not, and why"
    )
    p.add_argument("requirement", metavar="REQ-ID", help="e.g. SR-2")
    p.add_argument("--commit", metavar="REV", help="the commit to evaluate (default HEAD)")
    _policy_arg(p)
    _format(p)
    _common(p)
    p.set_defaults(handler=_explain)

    p = sub.add_parser(
        "gate", help="allow or stop a release (exit 0 pass, 1 fail); records the verdict"
    )
    p.add_argument("--release", metavar="TAG", help="the release tag to gate (default: HEAD)")
    _policy_arg(p)
    p.add_argument(
        "--ratchet",
        action="store_true",
        help="also fail when a requirement is worse than at the previous release",
    )
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    p.add_argument(
        "--summary", type=Path, metavar="FILE", help="write a Markdown summary here (CI step)"
    )
    _format(p)
    _common(p)
    p.set_defaults(handler=_gate)

    p = sub.add_parser(
        "waive", help="record an approved, time-limited waiver for a requirement or a finding"
    )
    p.add_argument("target", metavar="REQ-ID|FINDING-ID", help="e.g. SVV-4, B602, PYSEC-2018-28")
    p.add_argument("--reason", required=True, help="why the exception is acceptable")
    p.add_argument(
        "--expires", required=True, metavar="DATE", help="last day it counts (YYYY-MM-DD, UTC)"
    )
    p.add_argument(
        "--approver",
        required=True,
        metavar="'NAME <EMAIL>'",
        help="who approved it: someone other than you (compared by e-mail)",
    )
    _format(p)
    _common(p)
    p.set_defaults(handler=_waive)

    p = sub.add_parser(
        "ci", help="the CI job: fetch the ledger, collect, gate, write reports, push the ledger"
    )
    p.add_argument("--release", metavar="TAG", help="gate this release tag (default: HEAD)")
    p.add_argument(
        "--remote",
        default=os.environ.get("SDL_TRACKER_REMOTE"),
        help="fetch and push the ledger branch here (default: [ledger] remote; none = local)",
    )
    p.add_argument(
        "--no-push", action="store_true", help="fetch the remote ledger but do not push (PRs)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("sdl-reports"),
        help="directory for junit.xml and summary.md (default sdl-reports)",
    )
    _policy_arg(p)
    p.add_argument(
        "--ratchet", action="store_true", help="also fail when worse than the previous release"
    )
    _sign_arg(p, "with --release: sign the evidence package")
    _common(p)
    p.set_defaults(handler=_ci)

    p = sub.add_parser(
        "org", help="the organisation view of a central (PostgreSQL) ledger: every repository"
    )
    osub = p.add_subparsers(dest="org_command", metavar="SUBCOMMAND")
    osub.required = True
    for name, text in (
        ("status", "one row per repository: gate verdict, ML, stale/incomplete, waivers"),
        ("export", "the organisation view as a deterministic zip for the assessor"),
    ):
        q = osub.add_parser(name, help=text)
        q.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="NAMES",
            help="comma-separated repository chains (default: every chain in the ledger)",
        )
        q.add_argument(
            "--within",
            type=int,
            default=30,
            metavar="DAYS",
            help="list waivers that stop counting within DAYS days (default 30)",
        )
        if name == "export":
            q.add_argument(
                "--out",
                type=Path,
                default=Path("org-report.zip"),
                help="the zip to write (default org-report.zip)",
            )
        else:
            _format(q, ("table", "json", "markdown"))
        _common(q)
    p.set_defaults(handler=_org)

    p = sub.add_parser(
        "export",
        help="the auditor's self-verifying evidence package of a release (zip), or one view",
    )
    p.add_argument("--release", metavar="TAG", help="the release tag (required for the zip)")
    p.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help="the file to write (- for stdout)"
    )
    p.add_argument(
        "--format",
        choices=("zip", "html", "oscal", "sarif", "json"),
        default="zip",
        help="zip: the whole package (default); html, oscal, sarif, json: one view",
    )
    _sign_arg(p, "sign the package with this Ed25519 private key from `keygen`")
    _policy_arg(p)
    _common(p)
    p.set_defaults(handler=_export)

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing evidence packages")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="private key file (mode 0600); the public key goes to PATH.pub",
    )
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--verbose", "-v", action="store_true", help="tracebacks for bugs")
    p.set_defaults(handler=_keygen)

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
