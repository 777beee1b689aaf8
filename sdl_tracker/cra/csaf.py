"""CSAF 2.0 documents (OASIS Common Security Advisory Framework): a security advisory, or a VEX
document, for one security issue across the product's releases (pure: data in, JSON out).

What the generator guarantees, because the validators check it (CSAF 2.0 section 6.1): the exact
category constant of the profile; one revision numbered "1" and `version` "1"; every product id
used is defined once in the product tree; a product is in one status only; the CVSS v3 object is
computed from its vector (a v4 vector cannot be carried in CSAF 2.0 and is left out); every
`known_affected` product has a remediation and every `known_not_affected` one an impact statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sdl_tracker.errors import InputError
from sdl_tracker.models import JSON

ADVISORY = "csaf_security_advisory"
VEX = "csaf_vex"
AFFECTED = "known_affected"
FIXED = "fixed"
NOT_AFFECTED = "known_not_affected"
UNDER_INVESTIGATION = "under_investigation"
STATUSES = (FIXED, AFFECTED, NOT_AFFECTED, UNDER_INVESTIGATION)
#: The justification labels CSAF 2.0 flags take (the same as OpenVEX's).
FLAG_LABELS = (
    "component_not_present",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
    "inline_mitigations_already_exist",
)


@dataclass(frozen=True)
class Version:
    """One released version of the product and its status for the vulnerability."""

    version: str
    status: str
    justification: str | None = None
    """Why a `known_not_affected` version is not affected (the VEX decision's words)."""
    source: str | None = None
    """Where that decision is (e.g. `v1.5.0:vex.json: vulnerabilities[0]`)."""


@dataclass(frozen=True)
class Advisory:
    """Everything a CSAF document for one issue is made of."""

    category: str
    tracking_id: str
    title: str
    publisher: str
    namespace: str
    product: str
    purl: str | None
    """`pkg:pypi/name` (without a version) when the product is a Python package."""
    issue_id: str
    description: str
    versions: tuple[Version, ...]
    released_at: datetime
    cve: str | None = None
    ids: tuple[tuple[str, str], ...] = ()
    """(system name, id) pairs, e.g. ("GitHub Security Advisory", "GHSA-…")."""
    cvss_v3: str | None = None
    fixed_in: str | None = None
    mitigation: str | None = None
    engine_version: str = "0"


def filename(tracking_id: str) -> str:
    """The file name CSAF 2.0 section 5.1 derives from the tracking id."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def _time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _pid(product: str, version: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", f"{product}-{version}").upper()


def build(a: Advisory) -> dict[str, JSON]:
    """The CSAF 2.0 document (keys sorted when serialised with `sort_keys`)."""
    if a.category not in (ADVISORY, VEX):
        raise ValueError(a.category)
    if a.tracking_id != a.tracking_id.strip() or not a.tracking_id:
        raise InputError(f"tracking id {a.tracking_id!r}: no leading or trailing spaces")
    if not a.versions:
        raise InputError(
            f"{a.issue_id}: no released version to describe: tag a release first "
            "(the advisory lists which releases are affected and which fix it)"
        )
    ids = {v.version: _pid(a.product, v.version) for v in a.versions}
    when = _time(a.released_at)
    document: dict[str, JSON] = {
        "category": a.category,
        "csaf_version": "2.0",
        "distribution": {"tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"}},
        "lang": "en",
        "notes": [{"category": "summary", "title": "Summary", "text": _summary(a)}],
        "publisher": {"category": "vendor", "name": a.publisher, "namespace": a.namespace},
        "references": [
            {
                "category": "self",
                "summary": "Canonical URL of this document",
                "url": f"{a.namespace.rstrip('/')}/.well-known/csaf/white/"
                f"{a.released_at.year}/{filename(a.tracking_id)}",
            }
        ],
        "title": a.title,
        "tracking": {
            "current_release_date": when,
            "generator": {
                "date": when,
                "engine": {"name": "sdl-tracker", "version": a.engine_version},
            },
            "id": a.tracking_id,
            "initial_release_date": when,
            "revision_history": [{"date": when, "number": "1", "summary": "Initial version."}],
            "status": "final",
            "version": "1",
        },
    }
    return {
        "document": document,
        "product_tree": _tree(a, ids),
        "vulnerabilities": [_vulnerability(a, ids, when)],
    }


def _summary(a: Advisory) -> str:
    fixed = f" Fixed in {a.product} {a.fixed_in}." if a.fixed_in else " No fix is released yet."
    return f"{a.title} ({a.issue_id}).{fixed}"


def _tree(a: Advisory, ids: dict[str, str]) -> dict[str, JSON]:
    versions: list[JSON] = []
    for v in a.versions:
        product: dict[str, JSON] = {
            "name": f"{a.product} {v.version}",
            "product_id": ids[v.version],
        }
        if a.purl:
            product["product_identification_helper"] = {"purl": f"{a.purl}@{v.version}"}
        versions.append({"category": "product_version", "name": v.version, "product": product})
    return {
        "branches": [
            {
                "category": "vendor",
                "name": a.publisher,
                "branches": [{"category": "product_name", "name": a.product, "branches": versions}],
            }
        ]
    }


def _vulnerability(a: Advisory, ids: dict[str, str], when: str) -> dict[str, JSON]:
    status: dict[str, list[JSON]] = {}
    for v in a.versions:
        if v.status not in STATUSES:
            raise ValueError(v.status)
        status.setdefault(v.status, []).append(ids[v.version])
    vuln: dict[str, JSON] = {
        "notes": [
            {"category": "description", "title": "Vulnerability description", "text": a.description}
        ],
        "product_status": dict(status),
        "title": a.title,
    }
    if a.cve:
        vuln["cve"] = a.cve
    vuln["ids"] = [{"system_name": name, "text": text} for name, text in a.ids]
    affected = status.get(AFFECTED, [])
    if affected:
        vuln["remediations"] = [_remediation(a, affected, when)]
        if a.cvss_v3:
            vuln["scores"] = [{"cvss_v3": _cvss(a.cvss_v3), "products": list(affected)}]
    not_affected = [v for v in a.versions if v.status == NOT_AFFECTED]
    if not_affected:
        vuln["threats"] = [
            {
                "category": "impact",
                "details": f"Not affected: {v.justification or 'no justification given'}"
                + (f" ({v.source})" if v.source else ""),
                "product_ids": [ids[v.version]],
            }
            for v in not_affected
        ]
        flags: dict[str, list[JSON]] = {}
        for v in not_affected:
            if v.justification in FLAG_LABELS:
                flags.setdefault(v.justification, []).append(ids[v.version])
        if flags:
            vuln["flags"] = [{"label": k, "product_ids": p} for k, p in sorted(flags.items())]
    return vuln


def _remediation(a: Advisory, affected: Sequence[JSON], when: str) -> dict[str, JSON]:
    if a.fixed_in:
        return {
            "category": "vendor_fix",
            "date": when,
            "details": f"Update {a.product} to {a.fixed_in} or later.",
            "product_ids": list(affected),
        }
    if a.mitigation:
        return {"category": "mitigation", "details": a.mitigation, "product_ids": list(affected)}
    return {
        "category": "none_available",
        "details": "No fix or mitigation is available yet; this document will be updated.",
        "product_ids": list(affected),
    }


def _cvss(vector: str) -> dict[str, JSON]:
    from cvss import CVSS3

    data: dict[str, JSON] = CVSS3(vector).as_json(minimal=True)
    return data
