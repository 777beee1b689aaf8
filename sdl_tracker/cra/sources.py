"""What the CRA reports and advisories are drafted from: the issue record, the release tags, the VEX
decisions committed at each release, and the product as the recorded SBOM names it."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from sdl_tracker.collectors.deps import vex
from sdl_tracker.collectors.issues.records import Issue, from_record
from sdl_tracker.cra import csaf
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.sbom.model import read_project
from sdl_tracker.gitdata import git
from sdl_tracker.models import Statement

if TYPE_CHECKING:
    from sdl_tracker.workspace import Workspace

_ISSUE_DIRS = ("security-issues", ".security-issues")
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_VEX_DEFAULT = ("vex.json", ".vex/*.json")


@dataclass(frozen=True)
class Record:
    issue: Issue
    data: Mapping[str, Any]
    """The record as written (for the fields `Issue` does not keep, e.g. `notes`)."""


@dataclass(frozen=True)
class Release:
    tag: str
    version: str
    commit: str


@dataclass(frozen=True)
class Product:
    name: str
    purl: str | None
    """Without a version, e.g. `pkg:pypi/examplelib`."""
    source: str
    """Where the name came from (the SBOM entry, or pyproject.toml)."""


def record(root: Path, config: Mapping[str, Any], ident: str) -> Record:
    """The security-issue record with id `ident`; InputError when there is none."""
    dirs = config.get("paths")
    if not isinstance(dirs, list):
        dirs = [d for d in _ISSUE_DIRS if (root / d).is_dir()]
    seen = []
    for d in dirs:
        for path in sorted((root / str(d)).glob("**/*")):
            if path.suffix not in (".yaml", ".yml"):
                continue
            text = bounded.read(path, "issues").decode("utf-8")
            data = bounded.yaml_load(text, str(path), "issues")
            if isinstance(data, dict) and str(data.get("id")) == ident:
                return Record(issue=from_record(path, data), data=data)
            if isinstance(data, dict):
                seen.append(str(data.get("id")))
    raise InputError(
        f"no security-issue record with id {ident!r} under {', '.join(map(str, dirs)) or root}"
        + (f" (ids found: {', '.join(sorted(seen)[:10])})" if seen else "")
        + ": check the id, or write the record first (docs/collectors/issues.md)"
    )


def releases(root: Path) -> list[Release]:
    """Tags that name a version (`v1.4.1`, `1.4.1`), oldest version first."""
    found = []
    for tag in git.out(root, "tag", "--list").splitlines():
        try:
            version = Version(tag.removeprefix("v"))
        except InvalidVersion:
            continue
        commit = git.resolve(root, f"refs/tags/{tag}")
        if commit is not None:
            found.append((version, Release(tag=tag, version=str(version), commit=commit)))
    return [r for _, r in sorted(found, key=lambda pair: pair[0])]


def is_before(a: str, b: str) -> bool:
    return Version(a) < Version(b)


def release_named(found: Sequence[Release], version: str) -> Release | None:
    try:
        wanted = Version(version.removeprefix("v"))
    except InvalidVersion:
        return None
    return next((r for r in found if Version(r.version) == wanted), None)


def vex_decision(
    root: Path, release: Release, patterns: Sequence[str] | None, ids: Iterable[str]
) -> vex.Statement | None:
    """The VEX statement committed at `release` that decides about a vulnerability `ids`."""
    wanted = patterns if patterns is not None else _VEX_DEFAULT
    names = git.out(root, "ls-tree", "-r", "--name-only", release.commit).splitlines()
    files = []
    for name in names:
        if any(fnmatch.fnmatchcase(name, p) for p in wanted):
            data = git.run(root, "show", f"{release.commit}:{name}").stdout
            files.append((f"{release.tag}:{name}", data))
    return vex.load(files).decision(ids) if files else None


def product(root: Path, statements: Iterable[Statement], read: Any) -> Product:
    """The product's name and purl from the newest recorded SBOM, else pyproject.toml."""
    newest = None
    for st in statements:
        if st.predicate.kind == "sbom":
            for a in st.artifacts:
                if a.name == "sbom.cdx.json":
                    newest = a
    if newest is not None:
        data = read(newest.sha256)
        try:
            component = json.loads(data)["metadata"]["component"] if data else None
        except (ValueError, KeyError, TypeError):
            component = None
        if isinstance(component, dict) and isinstance(component.get("name"), str):
            purl = component.get("purl")
            base = purl.split("@", 1)[0] if isinstance(purl, str) else None
            return Product(component["name"], base, "the recorded SBOM (sbom.cdx.json)")
    project = read_project(root)
    return Product(
        project.name,
        f"pkg:pypi/{project.name}" if project.python else None,
        "pyproject.toml" if project.python else "the repository's directory name",
    )


def vex_patterns(deps_config: Mapping[str, Any]) -> list[str] | None:
    value = deps_config.get("vex")
    return [str(v) for v in value] if isinstance(value, list) else None


def statuses(
    root: Path,
    tags: Sequence[Release],
    fixed: Release | None,
    patterns: Sequence[str] | None,
    ids: Iterable[str],
) -> tuple[csaf.Version, ...]:
    """Each release's status for the vulnerability: fixed from the fixing release on; else what
    the VEX committed at that release decides; else affected."""
    wanted = set(ids)
    return tuple(_status(root, r, fixed, patterns, wanted) for r in tags)


def _status(
    root: Path,
    release: Release,
    fixed: Release | None,
    patterns: Sequence[str] | None,
    ids: set[str],
) -> csaf.Version:
    if fixed is not None and not is_before(release.version, fixed.version):
        return csaf.Version(release.version, csaf.FIXED)
    decision = vex_decision(root, release, patterns, ids)
    if decision is not None and decision.status == "not_affected":
        return csaf.Version(
            release.version, csaf.NOT_AFFECTED, decision.justification, decision.source
        )
    if decision is not None and decision.status in ("in_triage", "under_investigation"):
        return csaf.Version(release.version, csaf.UNDER_INVESTIGATION)
    return csaf.Version(release.version, csaf.AFFECTED)


@dataclass(frozen=True)
class Facts:
    """What a report or advisory about one issue is drafted from."""

    record: Record
    releases: tuple[Release, ...]
    fixed: Release | None
    versions: tuple[csaf.Version, ...]
    product: Product
    ids: frozenset[str]
    cve: str | None


def facts(ws: Workspace, ident: str) -> Facts:
    """The record `ident`, the releases and their status for it, and the product."""
    from sdl_tracker import ledger

    root = ws.repo()
    found = record(root, ws.config.collectors.get("issues", {}), ident)
    issue = found.issue
    tags = releases(root)
    fixed = None
    if issue.fixed_in:
        fixed = release_named(tags, issue.fixed_in)
        if fixed is None:
            raise InputError(
                f"{issue.source}: fixed_in: {issue.fixed_in} names no release tag "
                f"(tags: {', '.join(t.tag for t in tags) or 'none'}): tag the fixing release "
                "first, or correct fixed_in"
            )
    ids = {issue.id, *issue.aliases, *([issue.advisory] if issue.advisory else [])}
    patterns = vex_patterns(ws.config.collectors.get("deps", {}))
    store = ws.store()
    statements = [e.statement() for e in ledger.entries(store)] if store.exists() else []
    return Facts(
        record=found,
        releases=tuple(tags),
        fixed=fixed,
        versions=statuses(root, tags, fixed, patterns, ids),
        product=product(root, statements, store.read_object),
        ids=frozenset(ids),
        cve=next((i for i in sorted(ids) if _CVE.match(i)), None),
    )
