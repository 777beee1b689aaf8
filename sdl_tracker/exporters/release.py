"""The edge of the evidence export: verify the ledger, cut the release's slice, evaluate it again.

The slice is entries 1..N, where N is the release's newest gate verdict (`release_gate_record`
with `details.release` = the tag, on the tag's commit); without one, the whole ledger. The slice
is evaluated exactly as the gate did: the entries before the verdict, at the verdict's time, with
`gating` on — so the same ledger and release always give the same verdicts, and a difference
from what the gate recorded (another policy, say) is reported instead of hidden.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sdl_tracker.conformance import verdicts
from sdl_tracker.conformance.assessment import (
    WhatIfNeeded,
    commit_of,
    committed_policy,
    counted,
    judge,
    shipped_for,
)
from sdl_tracker.conformance.evidence import Record, records
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.conformance.tailoring import PolicyFile, untailored
from sdl_tracker.errors import ChainError, UnverifiedLedger
from sdl_tracker.exporters.source import GateInfo, ReleaseInfo, Source
from sdl_tracker.gitdata import git
from sdl_tracker.ledger import chain
from sdl_tracker.ledger import trust as ledger_trust
from sdl_tracker.ledger.chain import Entry, ObjectReader, Segment
from sdl_tracker.ledger.gitstore import GitStore
from sdl_tracker.ledger.store import Store
from sdl_tracker.models import parse_time
from sdl_tracker.policy import load as policy_mod
from sdl_tracker.workspace import Workspace

_SEP = "\x1f"


def gather(
    ws: Workspace,
    *,
    release: str | None,
    policy_file: Path | None,
    now: datetime,
    framework: str = policy_mod.DEFAULT,
) -> Source:
    """The release's (or, without one, HEAD's) verdicts and the verified ledger slice.

    Raises UnverifiedLedger when the ledger does not verify: nothing is exported from a broken
    chain.
    `now` is used only without a release; a release is judged at its gate verdict's time.
    Under another `framework` (`cra`), its policy judges, and its own gate verdict cuts the slice.
    """
    root = ws.repo()
    store = ws.store()
    if not store.exists():
        raise ws.no_ledger(store.location)
    ledger_trust.check(store)  # the remembered point and the history, before the full check
    entries, objects = _verified(store)
    recs = records(entries)
    commit = commit_of(root, None, release)
    policy = policy_mod.resolve(policy_file, ws.config.policy, framework)
    notes: list[str] = []
    gate = _gate(recs, release, commit, notes, framework) if release is not None else None
    if gate is not None:
        # As the gate judged: the entries before its verdict, at its time, its own run pending.
        cut, judged, gating = gate.seq, recs[: gate.seq - 1], True
        at = gate.statement.predicate.recorded_at
    else:
        cut, judged, gating = len(recs), recs, False
        at = recs[-1].statement.predicate.recorded_at if release is not None and recs else now
    files: tuple[PolicyFile, ...] = ()
    if gate is not None and (framework == policy_mod.DEFAULT or policy_file is not None):
        # As the gate judged: the policy committed at the release, its tailoring only approved.
        configured = ws.config.policy if framework == policy_mod.DEFAULT else None
        try:
            policy, files = committed_policy(root, commit, policy_file or configured)
        except WhatIfNeeded as e:
            notes.append(f"judged by a policy the release's commit does not hold: {e}")
    # As the gate judged: tool evidence no checkpoint covers is not counted (and is listed).
    judged, covered = counted(root, commit, entries[: len(judged)], policy)
    conf, checked, tailored = judge(
        policy, root, commit, judged, at, release, gating=gating, files=files
    )
    if covered is not None:
        conf = dataclasses.replace(conf, coverage=covered)
    if tailored is not None and not tailored.counts:
        policy, _ = untailored(policy, shipped_for(policy))  # what judged
    kept = tuple(entries[:cut])
    wanted = {o for e in kept for o in e.objects}
    return Source(
        conformance=conf,
        policy=policy,
        entries=kept,
        records=recs[:cut],
        objects={k: v for k, v in objects.items() if k in wanted},
        release=info(ws, release, commit),
        gate=_gate_info(gate, conf) if gate is not None else None,
        notes=tuple(notes),
        roster=checked.roster,
        tailoring=tailored,
    )


def _verified(store: Store) -> tuple[list[Entry], dict[str, bytes]]:
    """Every entry and artifact, read once, from one snapshot that `chain.verify` accepted."""
    head, segments = store.snapshot()
    kept: list[Segment] = list(segments)
    objects: dict[str, bytes] = {}

    def keep(reader: ObjectReader) -> ObjectReader:
        def read(sha256: str) -> bytes | None:
            data = reader(sha256)
            if data is not None:
                objects[sha256] = data
            return data

        return read

    try:
        if isinstance(store, GitStore):
            with store.object_reader() as cat:
                chain.verify(kept, keep(cat.read_object), head)
        else:
            chain.verify(kept, keep(store.read_object), head)
    except ChainError as e:
        raise UnverifiedLedger(store.location, e) from e
    return list(_parse(kept)), objects


def _parse(segments: list[Segment]) -> Iterator[Entry]:
    for segment in segments:
        for offset, raw in enumerate(segment.data.splitlines()):
            yield chain.parse(raw, f"{segment.where} line {segment.first_line + offset}")


def _gate(
    recs: tuple[Record, ...], release: str, commit: str, notes: list[str], framework: str
) -> Record | None:
    """The newest gate verdict of `release` on the tag's commit, under `framework`."""
    catalog = policy_mod.load(policy_mod.FRAMEWORKS[framework]).catalog.id
    found = [
        r
        for r in recs
        if (v := verdicts.read(r)) is not None and v.release == release and v.catalog == catalog
    ]
    if not found:
        option = "" if framework == policy_mod.DEFAULT else f" --framework {framework}"
        notes.append(
            f"no gate verdict for {release} in the ledger: the whole ledger was evaluated at "
            f"its newest entry's time; run `sdl-tracker gate{option} --release {release}` first"
        )
        return None
    newest = found[-1]
    if newest.statement.commit != commit:
        notes.append(
            f"the newest gate verdict for {release} (entry {newest.seq}) judged commit "
            f"{(newest.statement.commit or '?')[:12]}, but the tag names {commit[:12]} (the tag "
            "was moved): the whole ledger was evaluated instead"
        )
        return None
    return newest


def _gate_info(gate: Record, conf: Conformance) -> GateInfo:
    v = verdicts.read(gate)
    assert v is not None
    p = gate.statement.predicate
    differences = tuple(
        f"{r.requirement_id}: the gate recorded {before.value}, re-evaluated {r.status.value}"
        for r in conf.requirements
        if (before := v.statuses.get(r.requirement_id)) is not None and before is not r.status
    )
    return GateInfo(
        seq=gate.seq,
        hash=gate.hash,
        passed=v.passed,
        recorded_at=p.recorded_at,
        recorded_by=p.recorded_by,
        differences=differences,
    )


def info(ws: Workspace, tag: str | None, commit: str) -> ReleaseInfo:
    """The commit's author, time and message; an annotated tag's tagger and message."""
    root = ws.repo()
    fields = git.out(root, "show", "-s", f"--format=%an <%ae>{_SEP}%cI{_SEP}%B", commit)
    author, when, message = (fields.split(_SEP, 2) + ["", ""])[:3]
    tagger = tag_message = ""
    if tag is not None:
        kind = git.out(root, "cat-file", "-t", f"refs/tags/{tag}")
        if kind == "tag":
            meta = git.out(
                root,
                "for-each-ref",
                f"--format=%(taggername) %(taggeremail){_SEP}"
                "%(contents:subject)%0a%0a%(contents:body)",
                f"refs/tags/{tag}",
            )
            tagger, _, tag_message = meta.partition(_SEP)
    return ReleaseInfo(
        tag=tag,
        commit=commit,
        committed_at=parse_time(when) if when else None,
        author=author,
        message=message.strip(),
        tagger=tagger.strip(),
        tag_message=tag_message.strip(),
    )
