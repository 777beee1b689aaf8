"""What to do next, per evidence kind: the command that produces it (used in every reason)."""

from __future__ import annotations

from sdl_tracker.conformance.model import Status

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
    if kind.startswith("document:"):
        return (
            f"write the {kind.removeprefix('document:').replace('_', ' ')} and run "
            "`sdl-tracker collect --only documents` (or `sdl-tracker record "
            f"{kind} FILE -r {requirement}`)"
        )
    return f"record it: `sdl-tracker record {kind} FILE -r {requirement}`"


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
    return ""
