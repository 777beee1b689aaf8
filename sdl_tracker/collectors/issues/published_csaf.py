"""Published CSAF 2.0 documents under `advisories/`: each becomes `advisory` evidence naming the
vulnerabilities it discloses and the releases that fix them (DM-5, SUM-2).

The evidence fails when a version the document calls fixed is not a release tag of the repository
(the advisory points users at an update that was never released), or when the document is not a
CSAF security advisory or VEX document at all (a missing tracking id, profile or product tree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.formats import bounded
from sdl_tracker.gitdata import git
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

KIND = "advisory"
PROVIDES = ("DM-5", "SUM-2")
PROFILES = ("csaf_security_advisory", "csaf_vex")


def is_csaf(data: Any) -> bool:
    document = data.get("document") if isinstance(data, dict) else None
    return isinstance(document, dict) and "csaf_version" in document


def _versions(node: Any, found: dict[str, str]) -> dict[str, str]:
    """product_id -> product_version name, walking the product tree's branches."""
    if isinstance(node, dict):
        product = node.get("product")
        if node.get("category") == "product_version" and isinstance(product, dict):
            found[str(product.get("product_id"))] = str(node.get("name"))
        for child in node.get("branches") or []:
            _versions(child, found)
    return found


def _tags(root: Path) -> dict[Version, str]:
    tags = {}
    for tag in git.out(root, "tag", "--list").splitlines():
        try:
            tags[Version(tag.removeprefix("v"))] = tag
        except InvalidVersion:
            continue
    return tags


def evidence(ctx: Context, path: Path, data: dict[str, Any], tool: Tool) -> Evidence:
    document = data["document"]
    tracking = document.get("tracking") if isinstance(document.get("tracking"), dict) else {}
    category = document.get("category")
    ident = tracking.get("id")
    problems = []
    if category not in PROFILES:
        problems.append(f"category {category!r} is not one of {', '.join(PROFILES)}")
    if not isinstance(ident, str) or not ident:
        problems.append("no /document/tracking/id")
    versions = _versions(data.get("product_tree"), {})
    if not versions:
        problems.append("no product versions in /product_tree")
    tags = _tags(ctx.root)
    fixed_tags: list[str] = []
    untagged: list[str] = []
    vulns: list[str] = []
    for v in data.get("vulnerabilities") or []:
        if not isinstance(v, dict):
            continue
        vulns.append(str(v.get("cve") or next(iter(_ids(v)), "?")))
        status = v.get("product_status") or {}
        for pid in status.get("fixed") or [] if isinstance(status, dict) else []:
            name = versions.get(str(pid), "")
            try:
                tag = tags.get(Version(name.removeprefix("v")))
            except InvalidVersion:
                tag = None
            if tag is None:
                untagged.append(name or str(pid))
            elif tag not in fixed_tags:
                fixed_tags.append(tag)
    if untagged:
        problems.append(
            f"fixed version(s) {', '.join(untagged)} name no release tag of the repository"
        )
    rel = path.relative_to(ctx.root).as_posix() if path.is_relative_to(ctx.root) else path.name
    if problems:
        summary = f"{rel}: " + "; ".join(problems)
    else:
        fixed = f"fixed in {', '.join(fixed_tags)}" if fixed_tags else "no fixing release named"
        summary = f"CSAF {category} {ident}: {', '.join(vulns)}; {fixed}"
    details: dict[str, JSON] = {
        "file": rel,
        "format": "csaf-2.0",
        "category": category if isinstance(category, str) else None,
        "tracking_id": ident if isinstance(ident, str) else None,
        "vulnerabilities": list[JSON](vulns),
        "fixed_releases": list[JSON](fixed_tags),
    }
    return Evidence(
        kind=KIND,
        tool=tool,
        requirements=PROVIDES,
        result=Result(
            ResultStatus.FAIL if problems else ResultStatus.PASS,
            summary,
            {"vulnerabilities": len(vulns), "fixed_releases": len(fixed_tags)},
        ),
        covers=(rel.split("/", 1)[0],),
        # the file as published, byte for byte
        artifacts=((path.name, bounded.read(path, "issues")),),
        details=details,
    )


def _ids(v: dict[str, Any]) -> list[str]:
    return [str(i.get("text")) for i in v.get("ids") or [] if isinstance(i, dict)]
