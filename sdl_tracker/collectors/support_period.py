"""support-period: the support period the support-policy document declares, against the release
tags (CRA Art. 13(8), Annex II).

Reads the YAML front matter of `docs/support-policy.md` (`[collectors.support-period] path`) with
`formats.supportpolicy` and lists the release tags (`tag_pattern`, default `v*`). Fails when a
release tag has no end-of-support date (it falls in no release line, or in a line without
`end_of_support`) or a line ends less than five calendar years after its first release without a
justification; incomplete when the document has no front matter. Records nothing when the
document does not exist and no path is configured (the policy then reports the evidence missing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping

from sdl_tracker import __version__
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.tables import Table
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats import supportpolicy as sp
from sdl_tracker.gitdata import git
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

NAME = "support-period"
KIND = "support_period"
PROVIDES = ("SUM-4", "CRA-13-8")
_KEYS = ("path", "tag_pattern")
_DEFAULT = "docs/support-policy.md"
_TOOL = Tool("sdl-tracker support-period", __version__)


def _settings(ctx: Context) -> tuple[str, str, bool]:
    table = Table(NAME, ctx.config, _KEYS)
    return table.string("path", _DEFAULT), table.string("tag_pattern", "v*"), "path" in ctx.config


def _tags(ctx: Context, pattern: str) -> list[str]:
    return git.out(ctx.root, "tag", "--list", pattern, "--sort=v:refname").split()


def inputs(ctx: Context) -> Mapping[str, str]:
    path, pattern, _ = _settings(ctx)
    found = git.tree_ids(ctx.root, ctx.commit, [path])
    tags = "\n".join(f"{t} {git.resolve(ctx.root, f'refs/tags/{t}')}" for t in _tags(ctx, pattern))
    return {
        f"blob:{path}": found.get(path, "untracked"),
        "tags": hashlib.sha256(tags.encode()).hexdigest(),
    }


def collect(ctx: Context) -> Iterator[Evidence]:
    path, pattern, configured = _settings(ctx)
    file = ctx.root / path
    if not file.is_file():
        if configured:
            yield _incomplete(f"{path} does not exist: write the support policy there")
        return
    if not file.resolve().is_relative_to(ctx.root.resolve()):
        raise InputError(
            f"{path}: leads out of the repository (a symlink or '..'); the support policy "
            "must be a file of the repository: its bytes are stored in the ledger"
        )
    data = bounded.read(file, "support_policy", path)
    text = data.decode("utf-8", "replace")
    policy = sp.read(text, path)
    if policy is None:
        yield _incomplete(
            f"{path} has no YAML front matter declaring the release lines and their end of "
            "support: add a block between '---' lines at the top (docs/cra.md)",
            data,
        )
        return
    tags = _tags(ctx, pattern)
    today = ctx.now.date()
    found = sp.check(policy, tags, today)
    yield _evidence(path, data, found, len(tags), pattern, today.isoformat())


def _evidence(
    path: str, data: bytes, found: sp.Flagged, tags: int, pattern: str, today: str
) -> Evidence:
    problems = []
    if found.no_end:
        shown = ", ".join(found.no_end[:5]) + (" …" if len(found.no_end) > 5 else "")
        problems.append(f"{len(found.no_end)} release(s) without an end-of-support date: {shown}")
    if found.short:
        problems.append(
            f"{len(found.short)} release line(s) supported for less than five years without a "
            f"justification: {', '.join(found.short)}"
        )
    summary = "; ".join(problems) or (
        f"{len(found.rows)} release line(s), {tags} release tag(s), each with an end-of-support "
        "date at least five years after its line's first release (or a justified shorter one)"
    )
    report: dict[str, JSON] = {
        "document": path,
        "date": today,
        "tag_pattern": pattern,
        "lines": list(found.rows),
        "releases_without_end": list(found.no_end),
        "short_unjustified": list(found.short),
    }
    flags: list[JSON] = [f"{t}: no end-of-support date" for t in found.no_end]
    flags += [f"{row['line']}: {f}" for row in found.rows for f in _strs(row["flags"])]
    return Evidence(
        kind=KIND,
        tool=_TOOL,
        requirements=PROVIDES,
        result=Result(
            ResultStatus.FAIL if problems else ResultStatus.PASS,
            summary,
            {
                "lines": len(found.rows),
                "releases": tags,
                "releases_without_end": len(found.no_end),
                "short_unjustified": len(found.short),
            },
        ),
        covers=(path,),
        artifacts=(
            (path.rsplit("/", 1)[-1], data),
            ("support-period.json", json.dumps(report, indent=2, sort_keys=True).encode()),
        ),
        details={"flags": flags},
    )


def _strs(value: JSON) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _incomplete(summary: str, data: bytes | None = None) -> Evidence:
    return Evidence(
        kind=KIND,
        tool=_TOOL,
        requirements=PROVIDES,
        result=Result(ResultStatus.INCOMPLETE, summary, {}),
        artifacts=(("support-policy.md", data),) if data is not None else (),
    )
