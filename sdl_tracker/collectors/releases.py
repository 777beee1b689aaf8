"""releases: the release tag, its notes' security section, advisories, and the SBOM diff.

The release is `--release TAG`, else the newest tag matching `tag_pattern` at HEAD, else the
newest one reachable from HEAD. Its notes are read from the tagged tree; the SBOM diff compares
the SBOMs the `sbom` collector recorded in the ledger for the release commit and for the
previous release's commit (`sdl_tracker.sbom.diff`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sdl_tracker import __version__
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.tables import Table
from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import changelog, git
from sdl_tracker.gitdata.changelog import ReleaseNotes
from sdl_tracker.ledger import Store, entries
from sdl_tracker.models import JSON, Artifact, Result, ResultStatus, Tool
from sdl_tracker.workspace import open_workspace

NAME = "releases"
PROVIDES = ("SUM-1", "SUM-2", "SUM-3", "SUM-4")
_KEYS = ("tag_pattern", "notes")
_TOOL = Tool("sdl-tracker releases", __version__)


@dataclass(frozen=True)
class Release:
    tag: str
    commit: str
    previous: str | None
    previous_commit: str | None
    tags: int
    """How many tags match the pattern."""


@dataclass(frozen=True)
class Sboms:
    """The SBOM artifacts recorded for the release and the previous release (if any)."""

    release: tuple[int, Artifact] | None
    previous: tuple[int, Artifact] | None


def _table(ctx: Context) -> Table:
    return Table(NAME, ctx.config, _KEYS)


def release(ctx: Context) -> Release | None:
    pattern = _table(ctx).string("tag_pattern", "v*")
    tags = git.out(ctx.root, "tag", "--list", pattern).split()
    tag = ctx.options.get("release")
    if tag:
        if git.resolve(ctx.root, f"refs/tags/{tag}") is None:
            raise InputError(
                f"--release {tag!r}: no such tag in {ctx.root}; name an existing tag "
                "(git tag --list) or create it"
            )
    else:
        at_head = git.out(
            ctx.root, "tag", "--points-at", ctx.commit, "--list", pattern, "--sort=-v:refname"
        ).split()
        tag = at_head[0] if at_head else _describe(ctx.root, ctx.commit, pattern)
    if tag is None:
        return None
    commit = git.resolve(ctx.root, f"refs/tags/{tag}") or ""
    previous = _describe(ctx.root, f"{commit}^", pattern)
    previous_commit = git.resolve(ctx.root, f"refs/tags/{previous}") if previous else None
    return Release(tag, commit, previous, previous_commit, len(tags))


def _describe(root: Path, rev: str, pattern: str) -> str | None:
    proc = git.run(root, "describe", "--tags", "--abbrev=0", "--match", pattern, rev, check=False)
    return proc.stdout.decode("utf-8", "replace").strip() or None if proc.returncode == 0 else None


def _store(ctx: Context) -> Store | None:
    ledger_dir = ctx.options.get("ledger_dir")
    store = open_workspace(
        ctx.root,
        ledger_dir=Path(ledger_dir) if ledger_dir else None,
        ledger_url=ctx.options.get("ledger_url"),
        repo_name=ctx.options.get("repo_name"),
    ).store()
    return store if store.exists() else None


def sboms(store: Store | None, rel: Release) -> Sboms:
    """The latest SBOM recorded on each of the two release commits."""
    found: dict[str, tuple[int, Artifact]] = {}
    wanted = {rel.commit, rel.previous_commit} - {None}
    for entry in entries(store) if store is not None else ():
        st = entry.statement()
        if st.predicate.kind == "sbom" and st.commit in wanted and st.artifacts:
            docs = [a for a in st.artifacts if a.name.endswith((".json", ".xml"))]
            found[st.commit or ""] = (entry.seq, (docs or list(st.artifacts))[0])
    return Sboms(found.get(rel.commit), found.get(rel.previous_commit or ""))


def inputs(ctx: Context) -> Mapping[str, str]:
    rel = release(ctx)
    if rel is None:
        return {}
    notes = _table(ctx).string("notes", "CHANGELOG.md")
    result = {f"tag:{rel.tag}": rel.commit, "previous": rel.previous_commit or ""}
    result.update({f"blob:{k}": v for k, v in git.tree_ids(ctx.root, rel.commit, [notes]).items()})
    found = sboms(_store(ctx), rel)
    for side, value in (("release", found.release), ("previous", found.previous)):
        if value:
            result[f"sbom:{side}"] = value[1].sha256
    result["config"] = hashlib.sha256(
        json.dumps(dict(ctx.config), sort_keys=True, default=str).encode()
    ).hexdigest()
    return result


def collect(ctx: Context) -> Iterator[Evidence]:
    notes_path = _table(ctx).string("notes", "CHANGELOG.md")
    rel = release(ctx)
    if rel is None:
        pattern = _table(ctx).string("tag_pattern", "v*")
        yield Evidence(
            kind="release_notes",
            tool=_TOOL,
            requirements=PROVIDES,
            result=Result(
                ResultStatus.INCOMPLETE,
                f"no release tag matching {pattern!r} at or before HEAD: tag the release "
                "(git tag -s v1.2.0) or pass --release TAG, or set [collectors.releases] "
                "tag_pattern",
                {"releases": 0},
            ),
        )
        return
    text = _notes_text(ctx.root, rel.commit, notes_path)
    notes = changelog.release_notes(text, rel.tag) if text is not None else None
    store = _store(ctx)
    found = sboms(store, rel)
    sbom_report = _sbom_diff(store, found) if store is not None else None
    yield _evidence(rel, notes_path, notes, found, sbom_report)


def _notes_text(root: Path, commit: str, path: str) -> str | None:
    proc = git.run(root, "show", f"{commit}:{path}", check=False)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def _sbom_diff(store: Store, found: Sboms) -> dict[str, JSON] | None:
    if found.release is None or found.previous is None:
        return None
    from sdl_tracker.formats.sbom.diff import diff
    from sdl_tracker.formats.sbom.document import validate

    sides = []
    for seq, artifact in (found.previous, found.release):
        data = store.read_object(artifact.sha256)
        if data is None:
            raise InputError(
                f"entry {seq}: artifact {artifact.name} (sha256:{artifact.sha256}) is missing; "
                "run `sdl-tracker ledger verify`"
            )
        sides.append(validate(data, f"entry {seq} artifact {artifact.name}"))
    result = diff(sides[0], sides[1])
    return {
        "added": [f"{i.name} {i.version or ''}".strip() for i in result.added],
        "removed": [f"{i.name} {i.version or ''}".strip() for i in result.removed],
        "changed": [
            {"name": c.name, "old": list(c.old), "new": list(c.new)} for c in result.changed
        ],
        "unchanged": result.unchanged,
    }


def _evidence(
    rel: Release,
    notes_path: str,
    notes: ReleaseNotes | None,
    found: Sboms,
    sbom: dict[str, JSON] | None,
) -> Evidence:
    has_section = notes is not None and notes.release_heading is not None
    has_security = notes is not None and notes.security_heading is not None
    advisories = notes.advisories if notes is not None else ()
    metrics = {
        "releases": rel.tags,
        "has_notes": int(notes is not None),
        "has_release_section": int(has_section),
        "has_security_section": int(has_security),
        "advisories": len(advisories),
        "sbom_diff": int(sbom is not None),
    }
    if sbom is not None:
        for key in ("added", "removed", "changed"):
            value = sbom[key]
            metrics[f"components_{key}"] = len(value) if isinstance(value, list) else 0
    if notes is None:
        status, summary = ResultStatus.FAIL, f"{rel.tag}: no {notes_path} in the tagged tree"
    elif not has_section:
        status = ResultStatus.FAIL
        summary = f"{rel.tag}: {notes_path} has no section for this release"
    elif not has_security:
        status = ResultStatus.FAIL
        summary = f"{rel.tag}: the {notes_path} section has no security heading"
    else:
        status = ResultStatus.PASS
        summary = f"{rel.tag}: security section with {len(advisories)} advisories"
    summary += "; " + _sbom_words(rel, found, sbom)
    report: dict[str, JSON] = {
        "release": {"tag": rel.tag, "commit": rel.commit},
        "previous": {"tag": rel.previous, "commit": rel.previous_commit},
        "notes": {
            "path": notes_path,
            "present": notes is not None,
            "release_heading": notes.release_heading if notes else None,
            "release_line": notes.release_line if notes else None,
            "security_heading": notes.security_heading if notes else None,
            "security_line": notes.security_line if notes else None,
            "security_text": notes.security_text if notes else "",
        },
        "advisories": list(advisories),
        "sbom": {
            "release_entry": found.release[0] if found.release else None,
            "previous_entry": found.previous[0] if found.previous else None,
            "diff": sbom,
        },
    }
    return Evidence(
        kind="release_notes",
        tool=_TOOL,
        requirements=PROVIDES,
        result=Result(status, summary, metrics),
        covers=(notes_path,),
        artifacts=(("release.json", json.dumps(report, sort_keys=True, indent=1).encode()),),
        details={"release_tag": rel.tag, "previous_tag": rel.previous},
    )


def _sbom_words(rel: Release, found: Sboms, sbom: dict[str, JSON] | None) -> str:
    if sbom is not None:
        counts = ", ".join(
            f"{len(v) if isinstance(v, list) else 0} {k}"
            for k, v in sbom.items()
            if k in ("added", "removed", "changed")
        )
        return f"SBOM diff {rel.previous}..{rel.tag}: {counts}"
    if rel.previous is None:
        return "first release: no SBOM diff"
    missing = [t for t, f in ((rel.tag, found.release), (rel.previous, found.previous)) if not f]
    return (
        f"no SBOM recorded for {' and '.join(missing)}: run `sdl-tracker collect --only sbom` "
        "on each release commit to get the SBOM diff"
    )
