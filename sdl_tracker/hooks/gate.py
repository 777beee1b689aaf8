"""sdl-gate (pre-push): a release tag is pushed only when the release gate passes for it.

Which refs are pushed: under pre-commit, `PRE_COMMIT_LOCAL_BRANCH` / `PRE_COMMIT_REMOTE_BRANCH`;
as a plain git hook (`sdl-gate --remote NAME`, what hooks/pre-push runs), git's lines on stdin,
`<local ref> <local sha> <remote ref> <remote sha>`; or `--ref` by hand. Every tag among them
whose name matches `[hooks] release_tags` (default `v*`) is gated exactly as
`sdl-tracker gate --release TAG` does (the verdict is appended to the ledger); one failure
refuses the push. `--framework cra` gates under the EU Cyber Resilience Act view instead;
`--framework iec62443-4-1 --framework cra` under both (each verdict appended).

pre-commit runs pre-push hooks only when the push carries commits the remote does not have,
and shows them only the first such ref: a tag pushed for a commit that is already there does not
run this hook under pre-commit (the plain hook does run, and the CI gate on tags covers both).
Whenever nothing is gated the hook says so in one "skipped: …" line (the hook is `verbose`, so
pre-commit shows it): never a silent pass.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

PROG = "sdl-gate"
_ZERO = "0" * 40
_TAGS = "refs/tags/"


def pushed_refs(
    *, refs: Sequence[str], remote: str | None, environ: Mapping[str, str], stdin: Iterable[str]
) -> list[str]:
    """The refs this push creates or updates (deletions left out)."""
    if refs:
        return list(refs)
    local = environ.get("PRE_COMMIT_LOCAL_BRANCH")
    if local is not None:
        return [r for r in (local, environ.get("PRE_COMMIT_REMOTE_BRANCH", "")) if r]
    if remote is None:
        return []
    found: list[str] = []
    for line in stdin:
        parts = line.split()
        if len(parts) == 4 and parts[1].strip("0"):  # an all-zero local sha: a deletion
            found.extend((parts[0], parts[2]))
    return found


def release_tags(refs: Iterable[str], pattern: str) -> list[str]:
    """Tag names among `refs` that match `pattern`, in order, without repeats."""
    names = (r[len(_TAGS) :] if r.startswith(_TAGS) else "" for r in refs)
    return list(dict.fromkeys(n for n in names if n and fnmatch.fnmatchcase(n, pattern)))


def skipped(refs: Sequence[str], pattern: str | None, *, under_pre_commit: bool) -> str:
    """Why nothing was gated, in one line: never a silent pass."""
    if not refs:
        return (
            "skipped: no pushed ref was given (run as git's pre-push hook, under pre-commit, "
            "or with --ref refs/tags/TAG); nothing was gated"
        )
    tags = list(dict.fromkeys(r[len(_TAGS) :] for r in refs if r.startswith(_TAGS)))
    if tags:
        return (
            f"skipped: {', '.join(tags)} does not match the release tags {pattern!r} "
            "([hooks] release_tags); nothing was gated"
        )
    note = (
        " (pre-commit shows this hook only the first ref with new commits: push release tags "
        "on their own, `git push origin TAG`, or use the plain hook from `sdl-tracker "
        "install-hooks`)"
        if under_pre_commit
        else ""
    )
    return f"skipped: no release tag in this push ({', '.join(dict.fromkeys(refs))}){note}"


FRAMEWORKS = ("iec62443-4-1", "cra")


def check(
    root: Path,
    tags: Sequence[str],
    *,
    policy: Path | None,
    frameworks: Sequence[str] = FRAMEWORKS[:1],
) -> list[str]:
    """Gate each tag under each framework (output as `sdl-tracker gate` prints it); the tags
    that failed, as `TAG` (one framework) or `TAG (framework)`."""
    from sdl_tracker.cli.commands import gate
    from sdl_tracker.workspace import open_workspace

    ws = open_workspace(root)
    failed = []
    for tag in tags:
        for framework in frameworks:
            code = gate.run(
                ws=ws,
                release=tag,
                policy_file=policy,
                ratchet=False,
                junit=None,
                summary=None,
                framework=framework,
            )
            if code != 0:
                failed.append(tag if len(frameworks) == 1 else f"{tag} ({framework})")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--remote", help="the remote pushed to (git's first pre-push argument): read stdin"
    )
    parser.add_argument("remote_url", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument(
        "--ref", action="append", default=[], help="a pushed ref, e.g. refs/tags/v1.0 (repeatable)"
    )
    parser.add_argument("--pattern", help="release tag glob (default: [hooks] release_tags, v*)")
    parser.add_argument("--policy", metavar="FILE", help="policy file for the gate")
    parser.add_argument(
        "--framework",
        action="append",
        choices=FRAMEWORKS,
        help="gate under IEC 62443-4-1 (the default) or the EU Cyber Resilience Act (cra); "
        "repeat it to gate under both",
    )
    args = parser.parse_args(argv)
    frameworks = tuple(dict.fromkeys(args.framework or FRAMEWORKS[:1]))
    if args.policy and len(frameworks) > 1:
        parser.error("--policy judges one framework: give one --framework with it")
    stdin = sys.stdin if args.remote is not None and not args.ref else ()
    refs = pushed_refs(refs=args.ref, remote=args.remote, environ=os.environ, stdin=stdin)
    if not any(r.startswith(_TAGS) for r in refs):
        sys.stderr.write(
            f"{PROG}: {skipped(refs, None, under_pre_commit=_base.under_pre_commit())}\n"
        )
        return 0

    def body() -> int:
        from sdl_tracker import output

        root = _base.repo_root()
        pattern = args.pattern or _base.settings(root).release_tags
        tags = release_tags(refs, pattern)
        if not tags:
            output.err(f"{PROG}: {skipped(refs, pattern, under_pre_commit=False)}")
            return 0
        failed = check(
            root,
            tags,
            policy=root / args.policy if args.policy else None,
            frameworks=frameworks,
        )
        if failed:
            output.err(
                f"{PROG}: the release gate failed for {', '.join(failed)}: push refused. "
                "Collect the missing evidence (`sdl-tracker explain REQ-ID`), then push again"
            )
        return 1 if failed else 0

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
