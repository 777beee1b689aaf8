"""`sdl-tracker org status|export`: the organisation roll-up of a central (PostgreSQL) ledger.

Works from the ledger alone — no repository checkout: each chain's newest gate verdict, its
waivers and its head entry (`org.pgorg`), summarised by `org.status` and rendered by
`org.render` (status) or `org.export` (the assessor's zip).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import GitError, InputError, LedgerError

if TYPE_CHECKING:
    from sdl_tracker.formats.roster import Roster
    from sdl_tracker.org import pgorg
    from sdl_tracker.org import signatures as org_signatures
    from sdl_tracker.org import status as org_mod

_PG_SCHEMES = ("postgresql://", "postgres://")


NAME = "org"
HELP = "the organisation view of a central (PostgreSQL) ledger: every repository"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="org_command", metavar="SUBCOMMAND")
    sub.required = True
    for name, text in (
        ("status", "one row per repository: gate verdict, ML, stale/incomplete, waivers"),
        ("export", "the organisation view as a deterministic zip for the assessor"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="NAMES",
            help="comma-separated repository chains (default: every chain in the ledger)",
        )
        p.add_argument(
            "--within",
            type=int,
            default=30,
            metavar="DAYS",
            help="list waivers that stop counting within DAYS days (default 30)",
        )
        p.add_argument(
            "--roster",
            action="append",
            default=[],
            metavar="NAME=PATH",
            help="check chain NAME's checkpoints and signatures against the roster of PATH (a "
            "checkout of the repository: its roster at HEAD; or an sdl-roster.yaml), as "
            "`ledger verify` does there; repeatable (default: signatures not checked)",
        )
        if name == "export":
            p.add_argument(
                "--out",
                type=Path,
                default=Path("org-report.zip"),
                help="the zip to write (default org-report.zip)",
            )
        else:
            options.output_format(p, ("table", "json", "markdown"))
        options.common(p)


def main(args: argparse.Namespace) -> int:
    url = ledger_url(args.ledger, args.repo)
    names = options.names(args.only)
    rosters = dict(_roster_arg(a) for a in args.roster)
    if args.org_command == "export":
        return export(url=url, names=names, within=args.within, out=args.out, rosters=rosters)
    return status(url=url, names=names, within=args.within, fmt=args.format, rosters=rosters)


def _roster_arg(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise InputError(
            f"--roster {text!r}: expected NAME=PATH, the chain's name and a checkout of its "
            "repository (or its sdl-roster.yaml)"
        )
    return name.strip(), Path(path.strip())


def ledger_url(url: str | None, repo: Path) -> str:
    """--ledger URL, else `[ledger] url` of the repository at `repo` (if any), else an error."""
    from sdl_tracker import config as config_mod
    from sdl_tracker.gitdata import git
    from sdl_tracker.ledger import pgschema

    if not url:
        try:
            url = config_mod.load(git.toplevel(repo)).ledger_url
        except GitError:
            url = None
    if not url:
        raise LedgerError(
            "org commands read a central ledger: pass --ledger postgresql://USER@HOST/DBNAME "
            "(or set SDL_TRACKER_LEDGER, or [ledger] url in the configuration)"
        )
    if not url.startswith(_PG_SCHEMES):
        raise LedgerError(
            f"ledger URL {pgschema.redact(url)!r}: unsupported scheme; the organisation view "
            "needs a PostgreSQL ledger, postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
        )
    return url


def moment(environ: Mapping[str, str] | None = None) -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible exports)."""
    environ = os.environ if environ is None else environ
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(timezone.utc)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError) as e:
        raise InputError(
            f"SOURCE_DATE_EPOCH={epoch!r}: expected whole seconds since 1970-01-01 UTC"
        ) from e


def _build(
    url: str,
    names: Sequence[str],
    within: int,
    now: datetime,
    rosters: Mapping[str, Path] | None = None,
) -> tuple[org_mod.OrgStatus, tuple[pgorg.ChainFacts, ...]]:
    from sdl_tracker.ledger import pgschema
    from sdl_tracker.org import pgorg
    from sdl_tracker.org import status as org_mod
    from sdl_tracker.policy import catalog

    if not 0 <= within <= 36_500:
        raise InputError(f"--within {within}: expected a number of days from 0 to 36500")
    facts = pgorg.read(url, names)
    _verified(url, facts)
    practices = tuple(p.id for p in catalog.load().practices)
    found = org_mod.status(
        facts,
        ledger=pgschema.redact(url),
        now=now,
        within_days=within,
        practices=practices,
        signatures=_signatures(url, facts, rosters or {}),
    )
    return found, facts


def _verified(url: str, facts: Sequence[pgorg.ChainFacts]) -> None:
    """Every chain reported on verifies (incrementally), else exit 2 naming the chain."""
    from sdl_tracker.ledger import trust
    from sdl_tracker.ledger.pgstore import PgStore

    for chain in facts:
        store = PgStore(url, chain.repo)
        try:
            trust.check(store)
        finally:
            store.close()


def _signatures(
    url: str, facts: Sequence[pgorg.ChainFacts], rosters: Mapping[str, Path]
) -> dict[str, org_signatures.Signatures]:
    """Each named chain's checkpoints and attestation signatures against its repository's
    roster: `ledger verify`'s own check (`check_all`, `signature_problems`)."""
    from sdl_tracker.cli.commands.ledger import check_all, signature_problems
    from sdl_tracker.ledger.pgstore import PgStore
    from sdl_tracker.org.signatures import Signatures

    chains = {f.repo for f in facts}
    strays = sorted(set(rosters) - chains)
    if strays:
        raise InputError(
            f"--roster names {', '.join(strays)}, which is not a chain reported on (chains: "
            f"{', '.join(sorted(chains)) or 'none'}); use the chain's repository name"
        )
    found, read = {}, {}
    for name, path in sorted(rosters.items()):
        if path not in read:  # one roster for many chains (a monorepo's) is read once
            read[path] = _roster(name, path)
        roster = read[path]
        store = PgStore(url, name)
        try:
            report, marks, sigs = check_all(store, roster, mailmap=path if path.is_dir() else None)
        finally:
            store.close()
        _, problems = signature_problems(report, marks, sigs, roster)
        found[name] = Signatures(
            roster=roster.source,
            checkpoints=len(marks.good),
            attestations=sigs.verified,
            unsigned=sigs.unsigned,
            problems=tuple(problems),
            approvals=sigs.approvals,
        )
    return found


def _roster(name: str, path: Path) -> Roster:
    """The roster committed at HEAD of the checkout `path`, or the roster file `path`."""
    from sdl_tracker.conformance.trust import read_roster
    from sdl_tracker.formats import roster as roster_mod
    from sdl_tracker.gitdata import git

    where = f"--roster {name}={path}"
    if path.is_dir():
        commit = git.resolve(path, "HEAD")
        found = read_roster(path, commit) if commit else None
        if found is None:
            raise InputError(
                f"{where}: no {roster_mod.FILE} committed at HEAD of {path}; name the "
                "repository's checkout, or its roster file"
            )
        return found
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{where}: cannot read the roster file ({e}); give a readable path") from e
    return roster_mod.parse(text, str(path))


def status(
    *,
    url: str,
    names: Sequence[str],
    within: int,
    fmt: str,
    now: datetime | None = None,
    rosters: Mapping[str, Path] | None = None,
) -> int:
    """Print one row per repository chain; exit 0 whatever the verdicts are."""
    from sdl_tracker.org import render as orgrender

    found, _ = _build(url, names, within, now or datetime.now(timezone.utc), rosters)
    if fmt == "json":
        output.write_json(found.to_json())
    elif fmt == "markdown":
        output.out(orgrender.markdown(found))
    else:
        output.err(orgrender.table(found))
    return 0


def export(
    *,
    url: str,
    names: Sequence[str],
    within: int,
    out: Path,
    now: datetime | None = None,
    rosters: Mapping[str, Path] | None = None,
) -> int:
    """Write the assessor's zip: org-status.json, index.html, per-repository verdict + head."""
    from sdl_tracker.org import export as orgexport

    found, facts = _build(url, names, within, now or moment(), rosters)
    data = orgexport.build(found, facts)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InputError(f"--out {out}: cannot write ({e.strerror}); give a writable path") from e
    output.err(
        f"wrote {out}: {len(found.rows)} repositories, "
        f"{sum(1 for r in found.rows if r.verdict)} gate verdicts, MANIFEST.json of "
        "sha256 digests (cross-check each head with the repository's own export)"
    )
    return 0
