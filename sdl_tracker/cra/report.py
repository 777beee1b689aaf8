"""Drafts of the Article 14 stage reports (early warning, notification, final report) from what the
records hold, naming every field that is still empty and where to fill it (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sdl_tracker.cra import clock, csaf
from sdl_tracker.cra.sources import Facts
from sdl_tracker.errors import InputError
from sdl_tracker.models import JSON

STAGES = {"early-warning": "early_warning", "notification": "notification", "final": "final_report"}
_TITLES = {
    "early_warning": "Early warning",
    "notification": "Notification",
    "final_report": "Final report",
}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: JSON
    source: str
    """Where the value comes from, or which record field fills it while it is empty."""

    @property
    def empty(self) -> bool:
        return self.value in (None, "", [], {})


def _fields(facts: Facts, stage: str) -> list[Field]:
    issue = facts.record.issue
    cra = issue.cra
    assert cra is not None
    texts = cra.texts
    record = facts.record.issue.source.name
    by_status = {
        s: [v.version for v in facts.versions if v.status == s]
        for s in (csaf.AFFECTED, csaf.FIXED, csaf.NOT_AFFECTED)
    }
    product = Field("product", "Product", facts.product.name, facts.product.source)
    affected = Field(
        "affected_versions",
        "Affected versions",
        list[JSON](by_status[csaf.AFFECTED]),
        "release tags before fixed_in, less those a committed VEX calls not affected",
    )
    fixed = Field(
        "fixed_versions",
        "Fixed in",
        list[JSON](by_status[csaf.FIXED]),
        f"{record}: fixed_in (a release tag)",
    )

    def text(name: str, label: str) -> Field:
        return Field(name, label, texts.get(name), f"{record}: cra.{name}")

    others: list[JSON] = [str(i) for i in sorted(facts.ids - {issue.id})]
    ids = Field("ids", "Identifiers (CVE, OSV, GHSA)", others, f"{record}: aliases")
    cvss = Field(
        "cvss",
        "CVSS",
        f"{issue.cvss} ({issue.score} {issue.severity})" if issue.cvss else None,
        f"{record}: assessment.cvss",
    )
    states = Field(
        "member_states",
        "Member States where the product is available",
        list[JSON](cra.member_states),
        f"{record}: cra.member_states",
    )
    aware = Field(
        "aware_at",
        "Aware since",
        clock.utc_text(cra.aware_at) if cra.aware_at else None,
        f"{record}: cra.aware_at",
    )
    vulnerability = cra.kind == "vulnerability"
    if stage == "early_warning":
        nature = (
            "An actively exploited vulnerability"
            if vulnerability
            else "A severe incident having an impact on the security of the product"
        )
        extra = (
            []
            if vulnerability
            else [text("malicious_actor", "Unlawful or malicious act suspected")]
        )
        return [
            Field("nature", "What is reported", nature, f"{record}: cra.kind"),
            product,
            affected,
            aware,
            states,
            *extra,
        ]
    sent = cra.submissions.get("notification")
    sensitivity = Field(
        "sensitivity",
        "Sensitivity of the information",
        sent.sensitivity if sent else None,
        f"{record}: cra.submissions.notification.sensitivity",
    )
    if stage == "notification":
        return [
            product,
            affected,
            fixed,
            ids,
            cvss,
            text(
                "description",
                "General nature of the vulnerability"
                if vulnerability
                else "Nature of the incident",
            ),
            text(
                "exploit",
                "General nature of the exploit" if vulnerability else "Initial assessment",
            ),
            text("corrective_measure", "Corrective or mitigating measures taken"),
            text("mitigations", "Measures users can take"),
            sensitivity,
        ]
    return [
        product,
        affected,
        fixed,
        ids,
        cvss,
        text("description", "Description"),
        text("impact", "Severity and impact"),
        text("root_cause", "Type of threat or root cause")
        if not vulnerability
        else text("malicious_actor", "Malicious actor, where known"),
        text("corrective_measure", "Security update or other corrective measures"),
        text(
            "mitigations",
            "Mitigating measures applied and ongoing"
            if not vulnerability
            else "Measures users can take",
        ),
        Field("advisory", "Published advisory", issue.advisory, f"{record}: advisory"),
    ]


def draft(
    facts: Facts,
    stage_option: str,
    now: datetime,
    closing: Mapping[tuple[str, str], clock.Submission] | None = None,
) -> dict[str, JSON]:
    """The draft of one stage as JSON: its deadline (its stages closed only by `closing`, the
    signed submissions), its fields, and the empty ones."""
    issue = facts.record.issue
    if issue.cra is None or not issue.cra.reportable:
        raise InputError(
            f"{issue.source}: no reportable cra: block (kind, actively_exploited or severe: true, "
            "aware_at): there is nothing to report under Article 14 for this issue"
        )
    stage = STAGES[stage_option]
    mine = {st: sub for (ident, st), sub in (closing or {}).items() if ident == issue.id}
    case = clock.case(issue.id, issue.cra, now, mine)
    assert case is not None
    due = case.stage(stage)
    fields = _fields(facts, stage)
    return {
        "issue": issue.id,
        "title": issue.title,
        "kind": issue.cra.kind,
        "stage": stage,
        "drafted_at": clock.utc_text(now),
        "applicable": case.applicable,
        "deadline": due.to_json(),
        "fields": [
            {"field": f.name, "label": f.label, "value": f.value, "source": f.source}
            for f in fields
        ],
        "empty": [f"{f.name} ({f.source})" for f in fields if f.empty],
    }


def markdown(d: dict[str, JSON], now: datetime) -> str:
    deadline = d["deadline"]
    assert isinstance(deadline, dict)
    lines = [
        f"# {_TITLES[str(d['stage'])]}: {d['issue']} — {d['title']}",
        "",
        f"Draft of {d['drafted_at']} ({d['kind']}). {clock.describe(deadline, now)}.",
        "",
        "| field | value |",
        "|---|---|",
    ]
    fields = d["fields"]
    assert isinstance(fields, list)
    for f in fields:
        assert isinstance(f, dict)
        value = f["value"]
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(
            f"| {f['label']} | {_cell(shown) if shown not in (None, '') else '**(empty)**'} |"
        )
    empty = d["empty"]
    assert isinstance(empty, list)
    lines += ["", "## Still empty", ""]
    lines += [f"- {e}" for e in empty] if empty else ["Nothing: every field has a value."]
    return "\n".join(lines) + "\n"


def _cell(value: JSON) -> str:
    return str(value).replace("|", "\\|").replace("\n", "<br>")
