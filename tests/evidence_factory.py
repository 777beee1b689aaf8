"""Realistic evidence statements and small policies for the policy/evaluate/gate tests."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sdl_tracker.conformance.waivers import Approval
from sdl_tracker.models import JSON, Artifact, Predicate, Result, ResultStatus, Statement, Tool
from sdl_tracker.policy import catalog
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.policy.model import Policy

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
C = "c" * 40  # the commit evaluated
A = "a" * 40  # an ancestor of C
B = "b" * 40  # another ancestor of C
X = "e" * 40  # a commit outside C's history

_TOOLS = {
    "sast": ("sast", Tool("bandit", "1.8.0")),
    "dependency_audit": ("deps", Tool("pip-audit", "2.7.3")),
    "review_record": ("review", Tool("git", "2.43.0")),
    "secret_scan": ("secrets", Tool("detect-secrets", "1.5.0")),
    "release_gate_record": ("gate", Tool("sdl-tracker", "0.1.0")),
}


def stmt(
    kind: str,
    *,
    commit: str | None = C,
    status: ResultStatus = ResultStatus.PASS,
    metrics: Mapping[str, int | float] | None = None,
    covers: Sequence[str] = (),
    requirements: Sequence[str] = (),
    age_days: float = 1,
    details: Mapping[str, JSON] | None = None,
    summary: str | None = None,
    recorded_by: str = "Ada Lovelace <ada@example.com>",
    artifact: bytes | None = None,
    now: datetime = NOW,
) -> Statement:
    """A statement as a collector or `record` would write it, `age_days` before `now`."""
    collector, tool = _TOOLS.get(kind) or _made_by(kind)
    artifacts: tuple[Artifact, ...] = ()
    if artifact is not None:
        artifacts = (
            Artifact(f"{kind.replace(':', '-')}.json", hashlib.sha256(artifact).hexdigest()),
        )
    return Statement(
        commit=commit,
        artifacts=artifacts,
        predicate=Predicate(
            kind=kind,
            collector=collector,
            tool=tool,
            requirements=tuple(requirements),
            result=Result(status, summary or f"{kind}: {status.value}", dict(metrics or {})),
            recorded_by=recorded_by,
            recorded_at=now - timedelta(days=age_days),
            covers=tuple(covers),
            details=dict(details or {}),
        ),
    )


APPROVER = "Grace Hopper <grace@example.com>"


def approve_all(statements: Sequence[Statement]) -> dict[int, Approval]:
    """Every waiver among `statements` (numbered from 1) approved by a roster approver, as
    `conformance.trust.approvals` finds when the approver signed it."""
    return {
        seq: Approval(APPROVER)
        for seq, st in enumerate(statements, start=1)
        if st.predicate.kind == "waiver"
    }


def _made_by(kind: str) -> tuple[str, Tool]:
    """`record` for a person's statement, otherwise the collector that makes the kind."""
    if kind in catalog.load().attestable:
        return "record", Tool("sdl-tracker", "0.1.0")
    if kind.startswith("document:"):
        return "documents", Tool("sdl-tracker documents", "0.1.0")
    return kind.replace("_", "-"), Tool(kind, "0.1.0")


def policy_file(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def tailored(tmp_path: Path, text: str) -> Policy:
    """A project policy extending the shipped one with `text` (YAML, top-level keys)."""
    return policy_mod.load(policy_file(tmp_path, "extends: iec62443-4-1\n" + text))


def only(rid: str, justification: str = "out of scope for this test") -> str:
    """YAML `not_applicable` for every requirement but `rid` (and the ones listed after it).

    The requirements kept accept unsigned attestations too: these tests record them with
    `sdl-tracker record` and exercise the gate, not signatures (tests/conformance/
    test_provenance.py does).
    """
    keep = {r.strip() for r in rid.split(",")}
    ids = [r.id for r in policy_mod.load("iec62443-4-1").requirements if r.id not in keep]
    lines = ["not_applicable:"] + [f"  {i}: {justification}" for i in ids]
    lines += ["provenance:", "  requirements:"]
    lines += [f"    {k}: [attested, signed]" for k in sorted(keep)]
    return "\n".join(lines) + "\n"
