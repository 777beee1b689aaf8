"""What to do next, per evidence kind: the command that produces it (used in every reason)."""

from __future__ import annotations

from sdl_tracker.collectors.documents import DEFAULTS as _DOCUMENTS
from sdl_tracker.conformance.model import Status
from sdl_tracker.policy.catalog import load as _catalog

#: kind -> (command that collects it, alternatives)
_COLLECT = {
    "sast": ("sdl-tracker collect --only sast", "or ingest a report: `--from-report bandit.json`"),
    "dependency_audit": (
        "sdl-tracker collect --only deps --osv-db DIR",
        "or `--osv-url URL`, or `--from-report pip-audit.json` made on a networked machine",
    ),
    "sbom": ("sdl-tracker collect --only sbom", ""),
    "secret_scan": ("sdl-tracker collect --only secrets", ""),
    "review_record": ("sdl-tracker collect --only review", ""),
    "signed_commit": ("sdl-tracker collect --only signatures", ""),
    "signed_tag": ("sdl-tracker collect --only signatures --release TAG", ""),
    "threat_model": ("sdl-tracker collect --only threat-model", ""),
    "test_report": ("sdl-tracker collect --only tests --from-report junit.xml", ""),
    "traceability_matrix": ("sdl-tracker collect --only tests --from-report junit.xml", ""),
    "fuzzing": (
        "sdl-tracker collect --only tests --from-report junit.xml",
        'from tests marked `@pytest.mark.fuzz("INTERFACE")` that ran and passed; or a fuzzer\'s '
        "own report: `sdl-tracker collect --only fuzzing --from-report fuzz.log --fuzz-target "
        "PATH` (libFuzzer, atheris, AFL++ fuzzer_stats); or a campaign's report, signed: "
        "`sdl-tracker record fuzzing FILE -r SVV-3` with --sign",
    ),
    "dynamic_analysis": (
        "sdl-tracker collect --only tests --from-report junit.xml",
        'from tests marked `@pytest.mark.resource_exhaustion("INTERFACE")` that ran and passed; '
        "or a sanitizer or leak-check report, signed: `sdl-tracker record dynamic_analysis FILE "
        "-r SVV-3` with --sign",
    ),
    "process_doc": ("sdl-tracker collect --only documents", ""),
    "codeowners": ("sdl-tracker collect --only documents", ""),
    "issue_tracker_record": ("sdl-tracker collect --only issues", ""),
    "release_notes": ("sdl-tracker collect --only releases", ""),
    "release_gate_record": ("sdl-tracker gate --release TAG", ""),
    "support_period": ("sdl-tracker collect --only support-period", ""),
}


def produce(kind: str, requirement: str, *, force: bool = False) -> str:
    """The command that records `kind` evidence for `requirement`."""
    if kind in _COLLECT:
        command, alternatives = _COLLECT[kind]
        if kind == "release_gate_record" and requirement.startswith("CRA-"):
            command = "sdl-tracker gate --framework cra --release TAG"
        if force and kind != "release_gate_record":
            command += " --force"
        return f"run `{command}`" + (f" ({alternatives})" if alternatives else "")
    recorded = f"`sdl-tracker record {kind} FILE -r {requirement}`"
    attestable = kind in _catalog().attestable
    paths = _PATHS.get(kind)
    if paths is not None or kind.startswith("document:"):
        name = kind.removeprefix("document:")
        where = (
            f"write {' or '.join(paths)}"
            if paths
            else f"write the {name.replace('_', ' ')}, name it in .sdl-tracker.toml "
            f'([collectors.documents.{name}] path = "docs/….md"),'
        )
        also = f" (or, kept outside the repository: {recorded})" if attestable else ""
        return f"{where} and run `sdl-tracker collect --only documents`{also}"
    if attestable:
        return f"record it: {recorded}"
    producer = _catalog().producer(kind)
    if producer and producer.startswith("sdl-tracker "):
        command, _, rest = producer.partition(" (")
        return f"run `{command}`" + (f" ({rest}" if rest else "")
    if producer:
        made, _, command = producer.partition(" (")
        return f"it comes from {made}: run `{command.rstrip(')')}`"
    return (
        f"no collector makes {kind} yet and a person's record is not accepted for it: meet "
        f"{requirement} another way the rule allows, or tailor or waive it"
    )


#: Evidence kinds the documents collector reads, and where it looks by default.
_PATHS = {spec.name: spec.paths for spec in _DOCUMENTS}


#: kind -> how to demonstrate a process whose records cover nothing yet (an empty population)
_DEMONSTRATE = {
    "issue_tracker_record": (
        "run a drill: a test advisory recorded as security-issues/DRILL-<date>.yaml with "
        "`drill: true`, taken through received, triaged, assessed (CVSS), fixed and disclosed "
        "(DM-1..DM-5), then `sdl-tracker collect --only issues`"
    ),
    "release_gate_record": (
        "gate a first release (`sdl-tracker gate --release TAG`): the next release is judged "
        "on its verdict"
    ),
    "review_record": (
        "have a change in the release range reviewed by someone other than its author, then "
        "`sdl-tracker collect --only review`"
    ),
}


#: (kind, requirement) -> the same, where one kind serves several populations
_DEMONSTRATE_FOR = {
    ("traceability_matrix", "SVV-1"): (
        "write the security requirements file (security-requirements.yaml, "
        "docs/collectors/tests.md), mark the tests that verify each requirement "
        '`@pytest.mark.security_requirement("SR-…")`, run them with `pytest '
        "--junitxml=junit.xml`, then run `sdl-tracker collect --only tests --from-report "
        "junit.xml`"
    ),
    ("traceability_matrix", "SUM-1"): (
        "record each security issue fixed in the release under security-issues/ (`fixed_in: "
        "TAG`; a drill counts), mark the tests that verify each fix "
        '`@pytest.mark.fixes("SEC-…")`, run them with `pytest --junitxml=junit.xml`, then run '
        "`sdl-tracker collect --only tests --from-report junit.xml`"
    ),
}


def demonstrate(kind: str, requirement: str) -> str:
    """How to show a process that has not run yet, or to set it aside with a reason."""
    how = _DEMONSTRATE_FOR.get((kind, requirement)) or _DEMONSTRATE.get(
        kind, produce(kind, requirement)
    )
    return (
        f"{how}; or tailor {requirement} (not_applicable with a justification) or waive it: "
        f"`sdl-tracker waive {requirement} --reason … --expires DATE --approver 'Name <email>'`"
    )


def action(status: Status, kind: str, requirement: str, seq: int | None = None) -> str:
    """What to do about a leaf with this status."""
    entry = f" (`sdl-tracker ledger show {seq}`)" if seq is not None else ""
    if status is Status.FAILING:
        return (
            f"fix what {kind} evidence found{entry} and collect again, or waive it: "
            f"`sdl-tracker waive {requirement} --reason … --expires DATE --approver 'Name <email>'`"
        )
    if status is Status.STALE:
        return f"refresh it: {produce(kind, requirement, force=True)}"
    if status is Status.INCOMPLETE:
        how = produce(kind, requirement)
        return f"see why the collection was incomplete{entry}, fix it, then {how}"
    if status is Status.PARTIAL:
        return f"extend the {kind} evidence to the paths named, then {produce(kind, requirement)}"
    if status is Status.MISSING:
        return produce(kind, requirement)
    if status is Status.NOT_DEMONSTRATED:
        return demonstrate(kind, requirement)
    return ""


#: The metric of an SBOM that describes the built wheel or sdist (the `sbom` collector's).
BUILT = "built_artifacts"


def built(kind: str, requirement: str) -> str:
    """What to do when a rule needs the SBOM of what ships and the SBOM describes no built file."""
    return (
        "build what ships first: the product's wheel and sdist into dist/ (`python -m build`, "
        "or `pip wheel --no-deps --wheel-dir dist .`; another directory: `[collectors.sbom] "
        'dist = "…"` in .sdl-tracker.toml), then ' + produce(kind, requirement)
    )


#: `none_listed` key -> what fills the gap it names
_LISTED = {
    "without_level": (
        "state a capability security level for each zone and interface named: `security_levels:` "
        "in security-requirements.yaml or in the front matter of docs/security-requirements.md "
        "(`sdl-tracker init --templates` writes it), e.g. `TB-1: {sl_c: 2, sl_t: 2}`"
    ),
    "not_in_attack_surface": (
        "list each interface named, by its threat-model id, as an entry point in "
        "docs/attack-surface.md (or the file `[collectors.threat-model] attack_surface` names), "
        "commit it with a reviewer"
    ),
}


def listed(key: str, kind: str, requirement: str) -> str:
    """What to do when a `none_listed` list of `kind` evidence is not empty."""
    how = _LISTED.get(key, f"resolve each {key.replace('_', ' ')} named")
    return f"{how}, then {produce(kind, requirement)}"
