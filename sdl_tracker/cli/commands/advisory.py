"""`sdl-tracker advisory SEC-ID --format csaf`: a CSAF 2.0 security advisory (or, with
`--profile vex`, a CSAF VEX document) for one security issue, from its record, the release tags,
the VEX decisions committed at each release and the product the recorded SBOM names."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from sdl_tracker.cra.csaf import Advisory, Version
    from sdl_tracker.workspace import Workspace

NAME = "advisory"
HELP = "write a CSAF 2.0 security advisory or VEX document for a security issue"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("issue", metavar="SEC-ID", help="the id of the security-issue record")
    parser.add_argument(
        "--format", choices=("csaf",), default="csaf", help="csaf: CSAF 2.0 JSON (the default)"
    )
    parser.add_argument(
        "--profile",
        choices=("advisory", "vex"),
        default="advisory",
        help="advisory: csaf_security_advisory (default); vex: csaf_vex",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        help="write the document here (default: stdout); keep published ones in advisories/, "
        "named as CSAF requires (the tracking id, lower case, .json)",
    )
    parser.add_argument("--tracking-id", help="the document's id (default: SEC-ID)")
    parser.add_argument(
        "--publisher", help="publisher name (default: [advisory] publisher in the config)"
    )
    parser.add_argument(
        "--namespace",
        help="publisher namespace URL, e.g. https://example.com (default: [advisory] namespace)",
    )
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        issue=args.issue,
        profile=args.profile,
        output_file=args.output,
        tracking_id=args.tracking_id,
        publisher=args.publisher,
        namespace=args.namespace,
    )


def run(
    *,
    ws: Workspace,
    issue: str,
    profile: str = "advisory",
    output_file: Path | None = None,
    tracking_id: str | None = None,
    publisher: str | None = None,
    namespace: str | None = None,
    now: datetime | None = None,
) -> int:
    """Write the document; exit 0, or 2 (InputError) when the records cannot make one."""
    from sdl_tracker.cra import csaf

    now = now or datetime.now(timezone.utc)
    advisory = gather(
        ws,
        issue,
        category=csaf.VEX if profile == "vex" else csaf.ADVISORY,
        now=now,
        tracking_id=tracking_id,
        publisher=publisher,
        namespace=namespace,
    )
    text = json.dumps(csaf.build(advisory), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output_file is None:
        output.out(text)
    else:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(text, encoding="utf-8")
        expected = csaf.filename(advisory.tracking_id)
        if output_file.name != expected:
            output.err(f"note: CSAF names this document {expected} (section 5.1)")
    by_status: dict[str, list[str]] = {}
    for v in advisory.versions:
        by_status.setdefault(v.status, []).append(v.version)
    summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(by_status.items()))
    where = f"wrote {output_file}" if output_file else "CSAF document on stdout"
    output.err(f"{where}: {advisory.category} {advisory.tracking_id} ({summary})")
    if advisory.cvss_v3 is None and advisory.description:
        output.err("note: no CVSS v3 score (CSAF 2.0 carries CVSS v2/v3 only)")
    return 0


def gather(
    ws: Workspace,
    ident: str,
    *,
    category: str,
    now: datetime,
    tracking_id: str | None = None,
    publisher: str | None = None,
    namespace: str | None = None,
) -> Advisory:
    """The advisory's content from the repository and the ledger."""
    import re

    from sdl_tracker import __version__
    from sdl_tracker.cra import csaf, sources

    section = ws.config.section("advisory")
    publisher = publisher or _text(section, "publisher")
    namespace = namespace or _text(section, "namespace")
    if not publisher or not namespace:
        raise InputError(
            "a CSAF document names its publisher: give --publisher NAME and --namespace URL, "
            'or set them once in the config ([advisory] publisher = "…", namespace = '
            '"https://…")'
        )
    if not re.match(r"^https?://[^\s/]+", namespace):
        raise InputError(f"--namespace {namespace!r}: expected a URL such as https://example.com")
    known = sources.facts(ws, ident)
    issue, ids, cve = known.record.issue, known.ids, known.cve
    versions = known.versions
    if category == csaf.VEX:
        versions = _waived(ws, known.ids, versions, now)
    texts = issue.cra.texts if issue.cra else {}
    description = texts.get("description") or str(known.record.data.get("notes") or issue.title)
    return csaf.Advisory(
        category=category,
        tracking_id=tracking_id or issue.id,
        title=issue.title,
        publisher=publisher,
        namespace=namespace,
        product=known.product.name,
        purl=known.product.purl,
        issue_id=issue.id,
        description=description.strip(),
        versions=versions,
        released_at=now,
        cve=cve,
        ids=tuple(
            [(publisher, issue.id)]
            + [(_system(i), i) for i in sorted(ids - {issue.id}) if i != cve]
        ),
        cvss_v3=issue.cvss if issue.cvss and issue.cvss.startswith("CVSS:3") else None,
        fixed_in=known.fixed.version if known.fixed else None,
        mitigation=texts.get("mitigations"),
        engine_version=__version__,
    )


def _waived(
    ws: Workspace, ids: frozenset[str], versions: tuple[Version, ...], now: datetime
) -> tuple[Version, ...]:
    """The releases with no fix and no VEX decision of their own, not affected where an approved,
    unexpired finding waiver of this issue (any of its ids) states why; the waivers that do not
    count are named on stderr and change nothing."""
    import dataclasses

    from sdl_tracker import ledger
    from sdl_tracker.conformance.assessment import not_affected_waivers
    from sdl_tracker.conformance.evidence import records
    from sdl_tracker.cra import csaf
    from sdl_tracker.gitdata import git
    from sdl_tracker.policy import load as policy_mod

    store = ws.store()
    root = ws.repo()
    commit = git.resolve(root, "HEAD")
    if not store.exists() or commit is None:
        return versions
    limit = policy_mod.resolve(None, ws.config.policy).approvals.waiver_max_days
    counting, other = not_affected_waivers(root, commit, records(ledger.entries(store)), now, limit)
    for w in other:
        if w.target in ids:
            output.err(
                f"note: waiver entry {w.seq} ({w.target}, {w.justification}) is {w.state}: "
                "not stated in the VEX"
            )
    mine = [w for w in counting if w.target in ids]
    if not mine:
        return versions
    w = max(mine, key=lambda x: (x.expires, x.seq))
    source = (
        f"waiver entry {w.seq}: {w.reason}; approved by {w.approved_by}, until {w.expires:%Y-%m-%d}"
    )
    output.err(f"note: {w.target} not affected per {source}")
    return tuple(
        dataclasses.replace(
            v, status=csaf.NOT_AFFECTED, justification=w.justification, source=source
        )
        if v.status in (csaf.AFFECTED, csaf.UNDER_INVESTIGATION)
        else v
        for v in versions
    )


def _system(ident: str) -> str:
    if ident.startswith("GHSA-"):
        return "GitHub Security Advisory"
    if ident.startswith(("PYSEC-", "OSV-")):
        return "OSV"
    return "Other"


def _text(section: Any, key: str) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"[advisory] {key}: expected text, got {value!r}")
    return value
