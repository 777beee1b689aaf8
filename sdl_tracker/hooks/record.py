"""sdl-record (post-commit): record in the local ledger whether the hooks ran on this commit.

`git commit --no-verify` skips the pre-commit and commit-msg hooks but still runs post-commit,
so a commit whose tree the commit-msg hook never saw is recorded as *bypassed* (an entry of kind
`hook_run` with result `fail`, listed by `sdl-tracker ledger log`), and the hook exits 1 so that
the developer sees it (a post-commit hook cannot undo the commit). Without a ledger (no
`sdl-tracker init`) it records nothing and says so. It writes the local ledger (the branch or
`--ledger-dir` directory), never a central one: hooks stay offline.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

PROG = "sdl-record"


def record(root: Path) -> tuple[bool, str]:
    """Append the hook-run record for HEAD; (whether the hooks ran, the line to show)."""
    from datetime import datetime, timezone

    from sdl_tracker import __version__, ledger
    from sdl_tracker.config import load
    from sdl_tracker.gitdata import git
    from sdl_tracker.hooks import _marker
    from sdl_tracker.models import Predicate, Provenance, Result, ResultStatus, Statement, Tool
    from sdl_tracker.workspace import Workspace

    commit = git.resolve(root, "HEAD")
    if commit is None:
        return True, f"{PROG}: no commit yet; nothing recorded"
    tree = git.out(root, "rev-parse", f"{commit}^{{tree}}")
    ran = _marker.matches(root, tree)
    store = Workspace(root=root, config=load(root)).local_store()
    if not store.exists():
        return True, (
            f"{PROG}: no ledger in this repository (run `sdl-tracker init`); nothing recorded"
        )
    replay = _replaying(root)
    if ran:
        status, summary = ResultStatus.PASS, f"hooks ran on {commit[:10]}"
    elif replay:
        # git runs post-commit for each commit it replays, but no pre-commit/commit-msg hook.
        ran, status = True, ResultStatus.INFO
        summary = f"{commit[:10]} was made by git {replay}, which runs no pre-commit hooks"
    else:
        status = ResultStatus.FAIL
        summary = f"hooks were bypassed on {commit[:10]} (git commit --no-verify?)"
    statement = Statement(
        commit=commit,
        artifacts=(),
        predicate=Predicate(
            kind="hook_run",
            collector="hooks",
            tool=Tool(name="sdl-tracker hooks", version=__version__),
            requirements=("SM-1", "SI-2"),
            result=Result(status, summary, {"hooks_ran": int(status is ResultStatus.PASS)}),
            covers=(".",),
            recorded_by=git.recorder(root),
            recorded_at=datetime.now(timezone.utc),
            provenance=Provenance.VERIFIED,
        ),
    )
    (entry,) = ledger.append(store, [statement])
    return ran, f"{PROG}: ledger entry {entry.seq}: {summary}"


_REPLAYS = (
    ("rebase-merge", "rebase"),
    ("rebase-apply", "rebase"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
)


def _replaying(root: Path) -> str | None:
    """The git operation replaying commits right now (rebase, cherry-pick, revert), if any."""
    from pathlib import Path

    from sdl_tracker.gitdata import git

    for name, operation in _REPLAYS:
        where = Path(git.out(root, "rev-parse", "--git-path", name))
        if (where if where.is_absolute() else root / where).exists():
            return operation
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.parse_args(argv)

    def body() -> int:
        from sdl_tracker import output

        ran, line = record(_base.repo_root())
        output.out(line)
        return 0 if ran else 1

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
