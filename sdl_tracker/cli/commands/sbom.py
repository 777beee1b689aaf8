"""`sdl-tracker sbom diff REF1 REF2`: components added, removed and changed between two SBOMs.

A REF is a ledger entry seq, an artifact SHA-256 (a unique prefix will do), or a git tag or
commit (the latest SBOM recorded on that commit). The markdown form is the SUM-3 "dependent
component updates" record for release notes.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from sdl_tracker.formats.sbom.diff import SbomDiff
    from sdl_tracker.formats.sbom.document import Inventory, Item
    from sdl_tracker.ledger.chain import Entry
    from sdl_tracker.models import JSON, Artifact
    from sdl_tracker.workspace import Workspace

_HEX = re.compile(r"[0-9a-f]{6,64}")
_HINT = (
    "use an entry seq or artifact digest from `sdl-tracker ledger log`, or a tag/commit on "
    "which `sdl-tracker collect --only sbom` ran"
)


NAME = "sbom"
HELP = "compare recorded SBOMs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sbom_command", metavar="SUBCOMMAND")
    sub.required = True
    p = sub.add_parser(
        "diff",
        help="components added, removed and changed between two recorded SBOMs",
        description="REF: a ledger entry seq, an SBOM artifact SHA-256 (a unique prefix, or "
        "sha256:PREFIX), or a git tag or commit (the latest SBOM recorded on it).",
    )
    p.add_argument("ref1", metavar="REF1", help="the older SBOM")
    p.add_argument("ref2", metavar="REF2", help="the newer SBOM")
    options.output_format(p, ("text", "json", "markdown"))
    options.common(p)


def main(args: argparse.Namespace) -> int:
    return diff(ws=options.workspace(args), ref1=args.ref1, ref2=args.ref2, fmt=args.format)


@dataclass(frozen=True)
class Recorded:
    """An SBOM recorded in the ledger."""

    seq: int
    commit: str | None
    artifact: Artifact


@dataclass(frozen=True)
class Side:
    ref: str
    recorded: Recorded
    inventory: Inventory


def diff(*, ws: Workspace, ref1: str, ref2: str, fmt: str) -> int:
    from sdl_tracker import ledger
    from sdl_tracker.formats.sbom.diff import diff as compare
    from sdl_tracker.formats.sbom.document import validate

    store = ws.store()
    entries = list(ledger.entries(store))
    recorded = list(_recorded(entries))
    sides = []
    for ref in (ref1, ref2):
        found = _resolve(ref, recorded, ws.root)
        if found is None:
            known = ref.isdigit() and any(e.seq == int(ref) for e in entries)
            what = (
                f"entry {ref} holds no SBOM"
                if known
                else ("not an SBOM entry, artifact digest or git revision")
            )
            raise InputError(f"{ref!r}: {what}; {_HINT}")
        data = store.read_object(found.artifact.sha256)
        if data is None:
            raise InputError(
                f"entry {found.seq}: artifact {found.artifact.name} "
                f"(sha256:{found.artifact.sha256}) is missing; run `sdl-tracker ledger verify`"
            )
        where = f"entry {found.seq} artifact {found.artifact.name}"
        sides.append(Side(ref, found, validate(data, where)))
    old, new = sides
    result = compare(old.inventory, new.inventory)
    if fmt == "json":
        output.write_json(_json(old, new, result))
    elif fmt == "markdown":
        output.out(_markdown(old, new, result))
    else:
        output.err(_text(old, new, result))
    return 0


def _recorded(entries: list[Entry]) -> Iterator[Recorded]:
    for entry in entries:
        st = entry.statement()
        if st.predicate.kind != "sbom" or not st.artifacts:
            continue
        documents = [a for a in st.artifacts if a.name.endswith((".json", ".xml"))]
        yield Recorded(entry.seq, st.commit, (documents or list(st.artifacts))[0])


def _resolve(ref: str, recorded: list[Recorded], root: Path | None) -> Recorded | None:
    """The SBOM `ref` names, None when it names nothing; InputError when it is ambiguous."""
    from sdl_tracker.gitdata import git

    if ref.isdigit():
        for r in recorded:
            if r.seq == int(ref):
                return r
    digest = ref.lower().removeprefix("sha256:")
    by_digest = {
        r.artifact.sha256: r
        for r in recorded
        if _HEX.fullmatch(digest) and r.artifact.sha256.startswith(digest)
    }
    if len(by_digest) > 1:
        raise InputError(f"{ref!r}: matches {len(by_digest)} SBOM artifacts; give more digits")
    commit = None if ref.startswith("sha256:") or root is None else git.resolve(root, ref)
    on_commit = [r for r in recorded if commit is not None and r.commit == commit]
    if by_digest and on_commit and on_commit[-1] not in by_digest.values():
        raise InputError(
            f"{ref!r}: both an SBOM artifact digest and a git revision; write "
            f"sha256:{ref} for the artifact or the full commit id"
        )
    if by_digest:
        return next(iter(by_digest.values()))
    if on_commit:
        return on_commit[-1]
    if commit is not None:
        raise InputError(
            f"{ref!r}: no SBOM recorded for commit {commit[:12]}; check it out and "
            "run `sdl-tracker collect --only sbom`, then diff again"
        )
    return None


def _label(side: Side) -> str:
    product = side.inventory.product
    name = f"{product.name} {product.version or ''}".strip() if product else "(no product)"
    commit = f", commit {side.recorded.commit[:12]}" if side.recorded.commit else ""
    return f"entry {side.recorded.seq} ({name}{commit})"


def _counts(result: SbomDiff) -> str:
    return (
        f"{len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed, {result.unchanged} unchanged"
    )


def _text(old: Side, new: Side, result: SbomDiff) -> str:
    lines = [f"SBOM {_label(old)} -> {_label(new)}"]
    lines.extend(f"  + {i.name} {i.version or ''}".rstrip() for i in result.added)
    lines.extend(f"  - {i.name} {i.version or ''}".rstrip() for i in result.removed)
    lines.extend(f"  ~ {c.name} {', '.join(c.old)} -> {', '.join(c.new)}" for c in result.changed)
    lines.append(_counts(result))
    return "\n".join(lines)


def _markdown(old: Side, new: Side, result: SbomDiff) -> str:
    lines = [
        "### Dependent component updates",
        "",
        f"SBOM {_label(old)} → {_label(new)}: {_counts(result)}.",
        "",
    ]
    if not (result.added or result.removed or result.changed):
        return "\n".join([*lines, "No dependent component changed."])
    lines += ["| Change | Component | Old version | New version |", "|---|---|---|---|"]
    lines.extend(f"| added | {_md(i.name)} | | {_md(i.version or '')} |" for i in result.added)
    lines.extend(f"| removed | {_md(i.name)} | {_md(i.version or '')} | |" for i in result.removed)
    lines.extend(
        f"| changed | {_md(c.name)} | {_md(', '.join(c.old))} | {_md(', '.join(c.new))} |"
        for c in result.changed
    )
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _side_json(side: Side) -> JSON:
    product = side.inventory.product
    return {
        "ref": side.ref,
        "entry": side.recorded.seq,
        "commit": side.recorded.commit,
        "sha256": side.recorded.artifact.sha256,
        "product": {"name": product.name, "version": product.version} if product else None,
    }


def _item_json(item: Item) -> JSON:
    return {"key": item.key, "name": item.name, "version": item.version, "purl": item.purl}


def _json(old: Side, new: Side, result: SbomDiff) -> JSON:
    return {
        "old": _side_json(old),
        "new": _side_json(new),
        "added": [_item_json(i) for i in result.added],
        "removed": [_item_json(i) for i in result.removed],
        "changed": [
            {"key": c.key, "name": c.name, "old": list(c.old), "new": list(c.new)}
            for c in result.changed
        ],
        "unchanged": result.unchanged,
    }
