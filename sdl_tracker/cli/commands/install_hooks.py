"""`sdl-tracker install-hooks`: plain git hooks for repositories without the pre-commit framework.

Installs `pre-commit`, `commit-msg`, `post-commit` and `pre-push` scripts (from the top-level
`hooks/` folder, shipped in the wheel) into the repository's hooks directory. A hook that is
not ours (no "Installed by sdl-tracker install-hooks" line) is left alone unless `--force`,
and then kept as `<hook>.sdl-tracker-backup` (`.1`, `.2`, ... when that exists already).
"""

from __future__ import annotations

import argparse
import os
import stat
from importlib import resources
from pathlib import Path

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

HOOKS = ("pre-commit", "commit-msg", "post-commit", "pre-push")
MARKER = b"# Installed by sdl-tracker install-hooks"


NAME = "install-hooks"
HELP = "install plain git hooks (pre-commit, commit-msg, post-commit, pre-push)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="replace other tools' hooks (a backup is kept)"
    )
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    from sdl_tracker.gitdata import git

    return run(root=git.toplevel(args.repo), force=args.force)


def script(name: str) -> bytes:
    """A hook script: package data, or the source tree's `hooks/` (editable install)."""
    packaged = resources.files("sdl_tracker") / "hook_scripts" / name
    if packaged.is_file():
        return packaged.read_bytes()
    source = Path(__file__).resolve().parents[3] / "hooks" / name
    if source.is_file():
        return source.read_bytes()
    raise InputError(
        f"hook script {name!r} is missing from this installation; reinstall sdl-tracker"
    )


def run(*, root: Path, force: bool, hooks: tuple[str, ...] = HOOKS) -> int:
    from sdl_tracker.gitdata import git

    target_dir = Path(git.out(root, "rev-parse", "--path-format=absolute", "--git-path", "hooks"))
    target_dir.mkdir(parents=True, exist_ok=True)
    refused = []
    for name in hooks:
        target = target_dir / name
        new = script(name)
        if target.exists():
            current = target.read_bytes()
            if current == new:
                output.err(f"{name}: already installed")
                continue
            if MARKER not in current and not force:
                refused.append(name)
                output.err(
                    f"{name}: {target} is another tool's hook; left alone "
                    "(use --force to replace it, keeping a backup)"
                )
                continue
            if MARKER not in current:
                backup = _free(target.with_name(f"{name}.sdl-tracker-backup"))
                os.replace(target, backup)
                output.err(f"{name}: kept the existing hook as {backup}")
        target.write_bytes(new)
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        output.err(f"{name}: installed {target}")
    return 1 if refused else 0


def _free(path: Path) -> Path:
    """`path`, or `path.1`, `path.2`, ...: the first that does not exist (keep every backup)."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate
