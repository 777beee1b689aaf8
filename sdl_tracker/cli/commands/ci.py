"""`sdl-tracker ci`: the one command of a CI job — pull, collect, gate, report, push.

1. with a remote (`--remote` or `[ledger] remote`): fetch its ledger branch and reconcile;
   without one everything stays local, so a newcomer's clone is never pushed to;
2. create the ledger if there is none; 3. collect; 4. gate (its verdict is appended);
5. write `junit.xml` and `summary.md` to `--out` (and append the summary to
   `$GITHUB_STEP_SUMMARY` when set), and for a `--release` the evidence package
   `evidence-<TAG>.zip` (signed with `--sign KEY`); 6. push the branch back, replaying local
   entries on top of the remote head if another job pushed first. The exit code is the gate's.
`--framework cra` gates (and exports) under the EU Cyber Resilience Act view of the same ledger.

With a central ledger (`--ledger postgresql://…`) there is nothing to fetch or push: collect and
gate append straight to the repository's chain, each batch one transaction.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options, signing
from sdl_tracker.cli.commands import collect, export, gate
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from sdl_tracker.ledger.store import Store
    from sdl_tracker.workspace import Workspace


NAME = "ci"
HELP = "the CI job: fetch the ledger, collect, gate, write reports, push the ledger"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", metavar="TAG", help="gate this release tag (default: HEAD)")
    parser.add_argument(
        "--remote",
        default=os.environ.get("SDL_TRACKER_REMOTE"),
        help="fetch and push the ledger branch here (default: [ledger] remote; none = local)",
    )
    parser.add_argument(
        "--no-push", action="store_true", help="fetch the remote ledger but do not push (PRs)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("sdl-reports"),
        help="directory for junit.xml and summary.md (default sdl-reports)",
    )
    options.policy(parser)
    options.framework(parser)
    options.what_if(parser)
    parser.add_argument(
        "--ratchet", action="store_true", help="also fail when worse than the previous release"
    )
    options.sign(parser, "with --release: sign the evidence package")
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    options.policy_from_env(args.what_if)
    return run(
        ws=options.workspace(args),
        release=args.release,
        remote=args.remote,
        out=args.out,
        push=not args.no_push,
        policy_file=args.policy,
        ratchet=args.ratchet,
        sign=args.sign,
        what_if=args.what_if,
        signing_key=signing.key_from_env(),
        framework=args.framework,
    )


def run(
    *,
    ws: Workspace,
    release: str | None,
    remote: str | None,
    out: Path,
    push: bool,
    policy_file: Path | None,
    ratchet: bool,
    sign: Path | None = None,
    environ: Mapping[str, str] | None = None,
    what_if: bool = False,
    signing_key: Path | None = None,
    framework: str = "iec62443-4-1",
    now: datetime | None = None,
) -> int:
    from sdl_tracker.conformance import assessment
    from sdl_tracker.gitdata import git
    from sdl_tracker.ledger import sync
    from sdl_tracker.ledger.gitstore import GitStore

    environ = os.environ if environ is None else environ
    root = ws.repo()
    if not what_if:
        # A policy the commit does not hold is refused before anything is fetched or appended.
        commit = assessment.commit_of(root, None, release)
        configured = ws.config.policy if framework == "iec62443-4-1" else None
        assessment.committed_policy(root, commit, policy_file or configured)
    # Bad input first: nothing is fetched or appended when the reports cannot be written.
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out {out}: cannot create the directory ({e.strerror})") from e
    store = ws.store()
    remote = remote or ws.config.remote
    shared = remote is not None and isinstance(store, GitStore)
    if shared:
        assert isinstance(store, GitStore) and remote is not None
        fetched, replayed = sync.reconcile(store, sync.fetch(store, remote), remote)
        output.err(
            f"ledger: fetched {fetched} entries from {remote}"
            + (f", replayed {replayed} local entries on top" if replayed else "")
        )
    elif remote is not None:
        output.err(f"ledger: {store.location} is not a git branch; --remote {remote} ignored")
    # exists() first: an appender role may append to its chain but not create one.
    if not store.exists() and store.create():
        output.err(f"ledger: created {store.location}")
    if not isinstance(store, GitStore):
        output.err(f"ledger: appending straight to {store.location}")
    options = {"release": release} if release else {}
    mine = collect.batch(
        ws=ws,
        only=(),
        from_report=None,
        options=options,
        force=False,
        fmt="text",
        signing_key=signing_key,
        now=now,
    )
    bypassed = _bypassed(store, ws.repo())
    for line in bypassed:
        output.err(output.paint(line, "yellow"))
    summary = out / "summary.md"
    code = gate.run(
        ws=ws,
        release=release,
        policy_file=policy_file,
        ratchet=ratchet,
        junit=out / "junit.xml",
        summary=summary,
        what_if=what_if,
        signing_key=signing_key,
        framework=framework,
        now=now,
        own=frozenset(e.seq for e in mine),
    )
    step_summary = environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as f:
                f.write(summary.read_text(encoding="utf-8") + "\n")
                f.writelines(f"- {line}\n" for line in bypassed)
        except OSError as e:
            raise InputError(
                f"GITHUB_STEP_SUMMARY={step_summary}: cannot append ({e.strerror})"
            ) from e
    output.err(f"reports: {out / 'junit.xml'}, {summary}")
    if release is not None and what_if:
        output.err(f"what-if: no evidence package for {release} (no release verdict recorded)")
    elif release is not None:
        # Step 7: the auditor's package for every gated release, passed or not.
        export.run(
            ws=ws,
            release=release,
            out=out / f"evidence-{release}.zip",
            sign=sign,
            policy_file=policy_file,
            framework=framework,
            now=now,
        )
    if shared and push:
        assert isinstance(store, GitStore) and remote is not None
        resign = signing.resigner(
            ws,
            signing_key,
            who=git.recorder(ws.repo()),
            commit=git.resolve(ws.repo(), "HEAD"),
            now=now or datetime.now(timezone.utc),
        )
        result = sync.push(store, remote, resign)
        output.err(
            f"ledger: pushed {store.branch} to {remote}"
            + (
                f" (replayed {result.replayed} entries after a concurrent push)"
                if result.replayed
                else ""
            )
        )
    return code


def _bypassed(store: Store, root: Path) -> list[str]:
    """Commits of HEAD's history whose hooks were bypassed, as the sdl-record hook recorded them.

    Developers share those records with `sdl-tracker ledger sync`; a bypass later fixed by a
    commit whose hooks ran is still listed: the bypassed commit itself was not checked.
    """
    from sdl_tracker import ledger
    from sdl_tracker.gitdata import git
    from sdl_tracker.models import ResultStatus

    found = []
    for entry in ledger.entries(store):
        st = entry.statement()
        p = st.predicate
        if p.kind != "hook_run" or p.result.status is not ResultStatus.FAIL or not st.commit:
            continue
        ancestor = git.run(root, "merge-base", "--is-ancestor", st.commit, "HEAD", check=False)
        if ancestor.returncode == 0:
            found.append(
                f"hooks bypassed on {st.commit[:10]} by {p.recorded_by} (ledger entry "
                f"{entry.seq}): review that commit's secrets, bandit and trailer checks"
            )
    return found
