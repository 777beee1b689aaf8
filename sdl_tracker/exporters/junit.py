"""JUnit XML: one testcase per requirement, so CI shows the gate like a test run.

Failing requirements carry a `<failure>` with the reason and the next step; requirements that do
not apply are `<skipped>`; waivers, the policy and the maturity levels are suite properties.
Valid against the Ant JUnit schema (`../shared/schemas/JUnit.xsd`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sdl_tracker import __version__
from sdl_tracker.conformance.model import Status
from sdl_tracker.exporters.base import Report
from sdl_tracker.formats import text as safe_text
from sdl_tracker.models import format_time

NAME = "junit"


def render(report: Report) -> str:
    conf = report.conformance
    regressed = dict(report.regressions)
    failures = sum(
        1 for r in conf.requirements if not r.status.passes or r.requirement_id in regressed
    )
    skipped = sum(1 for r in conf.requirements if r.status is Status.NOT_APPLICABLE)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"sdl-tracker gate {conf.release or conf.commit[:12]}",
            "timestamp": format_time(conf.evaluated_at).removesuffix("Z"),
            "hostname": "localhost",
            "tests": str(len(conf.requirements)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": "0",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for r in conf.requirements:
        case = ET.SubElement(
            suite,
            "testcase",
            {"name": f"{r.requirement_id} {r.title}", "classname": r.practice, "time": "0"},
        )
        if r.status is Status.NOT_APPLICABLE:
            skip = ET.SubElement(case, "skipped", {"message": r.reason})
            skip.text = r.justification or r.reason  # CI views show the text, not the attribute
        elif not r.status.passes:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": f"{r.status.value}: {r.reason}", "type": r.status.value},
            )
            failure.text = r.reason + (f"\nnext: {r.action}" if r.action else "")
        elif r.requirement_id in regressed:
            what = regressed[r.requirement_id]
            failure = ET.SubElement(
                case, "failure", {"message": f"ratchet: {what}", "type": "ratchet"}
            )
            failure.text = f"worse than at release {report.baseline}: {what}\n{r.reason}"
    out = ET.SubElement(suite, "system-out")
    out.text = "\n".join(f"{r.requirement_id}: {r.status.value}" for r in conf.requirements)
    ET.SubElement(suite, "system-err").text = ""
    for element in suite.iter():  # ids, titles, reasons come from the repository
        element.attrib.update({k: safe_text.xml(v) for k, v in element.attrib.items()})
        element.text = safe_text.xml(element.text) if element.text else element.text
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")


def _properties(report: Report) -> list[tuple[str, str]]:
    conf = report.conformance
    props = [
        ("generator", f"sdl-tracker {__version__}"),
        ("commit", conf.commit),
        ("release", conf.release or ""),
        ("policy", conf.policy),
        ("policy_digest", conf.policy_digest),
        ("passed", "true" if report.verdict else "false"),
        ("maturity_note", "indicative: the tool shows the evidence, the assessor decides"),
    ]
    props.extend(
        (f"maturity.{p.practice}", f"ML{p.maturity}" if p.maturity else "none")
        for p in conf.practices
    )
    for r in conf.requirements:
        rests_on = r.rests_on()
        if any(rests_on.values()):
            value = ", ".join(f"{n} {name}" for name, n in rests_on.items() if n)
            props.append((f"provenance.{r.requirement_id}", value))
    unsigned = [r.requirement_id for r in conf.requirements if r.unsigned_only]
    props.append(("unsigned_only", ",".join(unsigned)))
    if report.baseline:
        props.append(("ratchet.baseline", report.baseline))
    for w in sorted(conf.waivers, key=lambda w: w.seq):
        state = w.state
        props.append(
            (
                f"waiver.{w.seq}.{w.target}",
                f"{state} until {format_time(w.expires)}; approved by {w.approver}; "
                f"requested by {w.requested_by}; reason: {w.reason}",
            )
        )
    return props
