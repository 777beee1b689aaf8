"""sdl-sbom (pre-commit): when dependency manifests change, the committed SBOM must follow.

When a manifest (requirements*.txt and the files `[collectors.sbom] requirements` names,
pyproject.toml, pylock.toml, Pipfile.lock, poetry.lock, uv.lock, pdm.lock) is among the given
files, the SBOM is rebuilt in memory exactly as the sbom collector builds it and its components
are compared with the committed one (`[hooks] sbom`, default sbom.cdx.json). A project that
commits no SBOM is not checked (one "skipped" line). `--fix` writes the rebuilt SBOM and still
fails, so that you stage it, as pre-commit's fixers do.
"""

from __future__ import annotations

import argparse
import fnmatch
import posixpath
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sdl_tracker.collectors.base import Context
    from sdl_tracker.collectors.sbom import Settings

PROG = "sdl-sbom"
MANIFESTS = (
    "requirements*.txt",
    "requirements/*.txt",
    "pyproject.toml",
    "pylock.toml",
    "pylock.*.toml",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
)
_SHOWN = 8


class Skipped(Exception):
    """Nothing to check; the message says why in one line."""


def is_manifest(path: str, configured: Sequence[str] = ()) -> bool:
    name = posixpath.basename(path)
    parent = posixpath.basename(posixpath.dirname(path))
    return (
        path in configured
        or any(fnmatch.fnmatch(name, p) for p in MANIFESTS if "/" not in p)
        or (parent == "requirements" and name.endswith(".txt"))
    )


def check(root: Path, filenames: Sequence[str], *, sbom: str | None, fix: bool) -> list[str]:
    """Problems as `path:line: message`; empty when no manifest changed or the SBOM is current.

    Raises Skipped when the project has committed no SBOM (and `--fix` was not given)."""
    from datetime import datetime, timezone

    from sdl_tracker import config
    from sdl_tracker.collectors import sbom as collector
    from sdl_tracker.collectors.base import Context
    from sdl_tracker.gitdata import git

    cfg = config.load(root)
    path = sbom or _base.hook_settings(cfg.section("hooks"), str(cfg.source or root)).sbom
    head = git.resolve(root, "HEAD")
    ctx = Context(root, head or "0" * 40, cfg.collector("sbom"), datetime.now(timezone.utc))
    s = collector.settings(ctx)
    configured = s.requirements if s.source == "requirements" else ()
    changed = [f for f in filenames if is_manifest(f, configured)]
    if not changed:
        return []
    why = f"{', '.join(changed[:3])} changed"
    if not fix and not (root / path).is_file():
        raise Skipped(
            f"{PROG}: skipped: no committed SBOM at {path} to keep current "
            f"(`{PROG} --fix` writes one; [hooks] sbom names another path)"
        )
    if s.ingest is not None:
        return [
            f"{path}:1: {why}, but [collectors.sbom] ingest = {s.ingest!r}: your build makes the "
            f"SBOM, which this hook cannot run; rebuild it yourself, or drop the {PROG} hook"
        ]
    if s.source == "environment" and s.site_packages is None:
        return [
            f'{path}:1: {why}, but [collectors.sbom] source = "environment" names no '
            'environment: set python = ".venv/bin/python" (the product\'s interpreter) '
            'or source = "requirements"'
        ]
    data, problems = _build(ctx, s)
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        return [f"{changed[0]}:1: cannot build the SBOM to compare with {path}: {shown}"]
    return _compare(root, path, data, why, fix)


def _build(ctx: Context, s: Settings) -> tuple[bytes, tuple[str, ...]]:
    """The SBOM the sbom collector would build now (bytes), and what could not be resolved."""
    from datetime import datetime, timezone

    from sdl_tracker.formats.sbom import document, environment, requirements
    from sdl_tracker.formats.sbom.model import Resolution, read_project
    from sdl_tracker.gitdata import git

    project = read_project(ctx.root)
    if s.source == "requirements":
        resolution = requirements.resolve(ctx.root, s.requirements)
    elif project.dependencies is None:
        problem = "pyproject.toml declares no static [project] dependencies"
        resolution = Resolution(packages=(), direct=(), problems=(problem,))
    else:
        resolution = environment.resolve(project, s.extras, s.site_packages)
    head = git.resolve(ctx.root, "HEAD")
    when = (
        datetime.fromisoformat(git.out(ctx.root, "show", "-s", "--format=%cI", head))
        if head
        else ctx.now
    ).astimezone(timezone.utc)
    data = document.build(project, resolution, commit=ctx.commit, tag=None, time=when)
    return data, resolution.problems


def _compare(root: Path, path: str, data: bytes, why: str, fix: bool) -> list[str]:
    from sdl_tracker.errors import InputError
    from sdl_tracker.formats import bounded
    from sdl_tracker.formats.sbom import document
    from sdl_tracker.formats.sbom.diff import diff

    target = root / path
    new = document.validate(data, "the rebuilt SBOM")
    if not target.is_file():
        problems = [f"{path}:1: {why} and there is no committed SBOM; run `{PROG} --fix`"]
    else:
        try:
            old = document.validate(bounded.read(target, "sbom", path), path)
        except InputError as e:
            old, problems = None, [f"{path}:1: {e}"]
        if old is not None:
            d = diff(old, new)
            changes = [
                *(f"+ {i.name} {i.version or ''}".rstrip() for i in d.added),
                *(f"- {i.name} {i.version or ''}".rstrip() for i in d.removed),
                *(f"~ {c.name} {'/'.join(c.old)} -> {'/'.join(c.new)}" for c in d.changed),
            ]
            if not changes:
                return []
            more = f" (+{len(changes) - _SHOWN} more)" if len(changes) > _SHOWN else ""
            problems = [
                f"{path}:1: out of date ({why}): {', '.join(changes[:_SHOWN])}{more}; "
                f"run `{PROG} --fix`"
            ]
    if fix:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        problems = [f"{path}:1: rewritten ({why}); stage it: git add {path}"]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("filenames", nargs="*", help="the files being committed")
    parser.add_argument("--sbom", metavar="PATH", help="the committed SBOM (default: [hooks] sbom)")
    parser.add_argument("--fix", action="store_true", help="rewrite the SBOM when it is stale")
    args = parser.parse_args(argv)
    # Configured requirements files may have any name, but they are text files.
    if not any(is_manifest(f) or f.endswith(".txt") for f in args.filenames):
        return 0

    def body() -> int:
        from sdl_tracker import output

        root = _base.repo_root()
        try:
            problems = check(
                root, _base.relative(root, args.filenames), sbom=args.sbom, fix=args.fix
            )
        except Skipped as e:
            output.out(str(e))
            return 0
        for line in problems:
            output.out(line)
        return 1 if problems else 0

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
