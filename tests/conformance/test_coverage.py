"""Checkpoint coverage: a checkpoint vouches for its signer's own batch only, so tool evidence
appended between checkpoints by someone without the CI key is not counted. Real keys
(`sdl-tracker keygen`), real git repositories, git and directory stores; the forger appends with
our own library, as anyone with push access to the ledger branch could.
"""

from __future__ import annotations

import html
import json
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys
from release_factory import XSS

from sdl_tracker import ledger
from sdl_tracker.cli.commands import ci, collect, gate, keygen
from sdl_tracker.cli.main import main
from sdl_tracker.conformance import checkpoints, coverage, verdicts
from sdl_tracker.conformance.assessment import Assessment, assess
from sdl_tracker.exporters import verify_script
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.gitdata import attest
from sdl_tracker.ledger import DirStore, GitStore
from sdl_tracker.ledger.chain import Head
from sdl_tracker.ledger.store import Store
from sdl_tracker.models import (
    STATEMENT_TYPE,
    Predicate,
    Provenance,
    Result,
    ResultStatus,
    Statement,
    Tool,
)
from sdl_tracker.workspace import open_workspace

SECURITY = "# Security\n\n## Reporting a vulnerability\n\nMail us.\n\n## Disclosure\n\n90 days.\n"
CONFIG = '[collect]\nenabled = ["documents"]\n'
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
DOC = "document:vulnerability_disclosure_policy"


def _raw_public(private: Path) -> str:
    import base64

    from cryptography.hazmat.primitives import serialization

    pem = private.with_name(private.name + ".pub").read_bytes()
    public = serialization.load_pem_public_key(pem)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


@pytest.fixture
def project(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A repository whose committed roster gives Grace's keygen key the ci role."""
    monkeypatch.delenv("SDL_TRACKER_SIGNING_KEY", raising=False)
    keys = ssh_keys(git_repo.parent / "keys", ["ada", "grace"])
    ci_key = git_repo.parent / "keys" / "ci-key"
    keygen.run(out=ci_key)
    (git_repo / ".sdl-tracker.toml").write_text(CONFIG)
    (git_repo / "SECURITY.md").write_text(SECURITY)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "security policy")
    text = roster_text(
        keys,
        roles={"grace": ["approver", "product-security-lead", "ci"]},
        extra_keys={"grace": [_raw_public(ci_key)]},
    )
    commit_roster(git_repo, text)
    return {"repo": git_repo, "ci": ci_key}


def _store(repo: Path, kind: str) -> tuple[Store, Path | None]:
    if kind == "dir":
        path = repo.parent / "ledger"
        return DirStore(path), path
    return GitStore(repo), None


def _collect(repo: Path, ledger_dir: Path | None, key: Path | None, force: bool = True) -> None:
    ws = open_workspace(repo, ledger_dir=ledger_dir)
    collect.run(
        ws=ws,
        only=(),
        from_report=None,
        options={},
        force=force,
        fmt="text",
        signing_key=key,
        now=NOW,
    )


def _sast(commit: str) -> Statement:
    """A passing bandit result for `commit`, as a forger writes it (verified, no findings)."""
    return Statement(
        commit=commit,
        artifacts=(),
        predicate=Predicate(
            kind="sast",
            collector="sast",
            tool=Tool("bandit", "1.7.9"),
            requirements=("SI-2", "SVV-3"),
            result=Result(
                status=ResultStatus.PASS,
                summary="0 high, 0 medium, 0 low findings",
                metrics={"high": 0, "medium": 0, "low": 0},
            ),
            recorded_by="CI <ci@example.com>",
            recorded_at=NOW,
            covers=(".",),
            provenance=Provenance.VERIFIED,
        ),
    )


def _assess(
    repo: Path, ledger_dir: Path | None, own: frozenset[int] = frozenset(), url: str | None = None
) -> Assessment:
    ws = open_workspace(repo, ledger_dir=ledger_dir, ledger_url=url, repo_name="product")
    return assess(ws, now=NOW + timedelta(minutes=5), gating=True, committed=True, own=own)


def _used(found: Assessment, seq: int) -> list[str]:
    """The requirements whose evaluation considered entry `seq`."""
    return [
        r.requirement_id
        for r in found.conformance.requirements
        if any(ref.seq == seq for ref in r.evidence)
    ]


@pytest.mark.parametrize("kind", ["git", "dir"])
def test_forged_evidence_then_a_ci_run_is_not_counted(
    project: dict[str, Path], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project["repo"]
    store, ledger_dir = _store(repo, kind)
    store.create()
    head = git(repo, "rev-parse", "HEAD").strip()
    _collect(repo, ledger_dir, project["ci"])  # CI: entry 1, checkpoint 2
    # The forger (push access, no key) appends a passing SAST result and a passing verdict.
    honest = _assess(repo, ledger_dir).conformance
    verdict, objects = verdicts.statement(
        replace(honest, release="v0.9"), passed=True, ratchet=(), who="x <x@x>", now=NOW
    )
    forged = ledger.append(store, [_sast(head), verdict], objects)
    assert [e.seq for e in forged] == [3, 4]
    _collect(repo, ledger_dir, project["ci"])  # the next CI run: entry 5, checkpoint 6
    found = _assess(repo, ledger_dir)
    cov = found.coverage
    assert cov is not None
    assert [u.seq for u in cov.not_counted] == [3, 4]
    assert cov.not_counted[0].after == 2
    assert "SI-2" in cov.not_counted[0].requirements
    assert [(s.first, s.last, s.checkpoint) for s in cov.spans] == [(1, 1, 2), (5, 5, 6)]
    assert cov.uncovered == 2
    assert _used(found, 3) == [] and _used(found, 5) == ["DM-1"]
    assert all(r.seq not in (3, 4) for r in found.records)
    # The same statement appended by a run holding the key counts: the test can fail.
    key = checkpoints.resolve(project["ci"], roster_mod.parse(_roster(repo), "roster"), "key")
    sign = key.maker(collector="collect", who="ci", commit=head, now=NOW, count=1)
    ledger.append(store, [_sast(head)], checkpoint=sign)  # entry 7, checkpoint 8
    again = _assess(repo, ledger_dir)
    assert _used(again, 3) == [] and "SI-2" in _used(again, 7)
    # Shown: status (text and JSON) and explain name the entry and what to do.
    args = ["-C", str(repo), *(["--ledger-dir", str(ledger_dir)] if ledger_dir else [])]
    capsys.readouterr()
    main(["status", *args])
    err = capsys.readouterr().err
    assert "checkpoints: newest good checkpoint entry 8" in err
    assert "entry 3 sast (sast): not counted, appended without the CI key after checkpoint 2" in err
    assert "entry 4 release_gate_record (gate): not counted" in err
    assert "run `sdl-tracker ci` with the CI signing key" in err
    main(["status", "--format", "json", *args])
    data = json.loads(capsys.readouterr().out)["coverage"]
    assert [u["seq"] for u in data["not_counted"]] == [3, 4]
    assert data["newest_checkpoint"] == 8
    main(["explain", "SI-2", *args])
    assert "entry 3 sast (sast): not counted" in capsys.readouterr().err
    main(["explain", "SI-2", "--format", "json", *args])
    here = json.loads(capsys.readouterr().out)["coverage"]["not_counted_here"]
    assert [u["seq"] for u in here] == [3]
    # The evidence package's verify.py (standard library only) reports the same from the bytes.
    check = _verify_script(store, project["ci"])
    assert not check.problems, check.problems
    assert any(
        "checkpoints: 3, each signs the entry before it; newest is entry 8" in line
        and "3 signed by the given key" in line
        for line in check.passed
    ), check.passed
    assert "covered by no checkpoint" in check.passed[-1]
    assert check.passed[-1].endswith(": 3 sast, 4 release_gate_record")


def _verify_script(store: Store, key: Path | None) -> verify_script.Checker:
    data = b"".join(e.raw + b"\n" for e in ledger.entries(store))
    public = (
        verify_script.public_key(key.with_name(key.name + ".pub").read_bytes()) if key else None
    )
    check = verify_script.Checker({verify_script.LEDGER: data}, public)
    check.chain({})
    check.problems.clear()  # the manifest stub: only the chain and checkpoints matter here
    check.checkpoints()
    return check


def _roster(repo: Path) -> str:
    return (repo / "sdl-roster.yaml").read_text()


def test_without_a_ci_key_in_the_roster_nothing_changes(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SDL_TRACKER_SIGNING_KEY", raising=False)
    (git_repo / ".sdl-tracker.toml").write_text(CONFIG)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "config")
    GitStore(git_repo).create()
    head = git(git_repo, "rev-parse", "HEAD").strip()
    ledger.append(GitStore(git_repo), [_sast(head)])
    found = _assess(git_repo, None)
    assert found.coverage is None and found.conformance.coverage is None
    assert "coverage" not in found.conformance.to_json()
    assert [r.seq for r in found.records] == [1]


def test_a_ci_run_without_the_key_counts_what_it_collected_marked_not_covered(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project["repo"]
    GitStore(repo).create()
    ws = open_workspace(repo)
    ci.run(
        ws=ws,
        release=None,
        remote=None,
        out=repo.parent / "out",
        push=False,
        policy_file=None,
        ratchet=False,
        environ={},
        now=NOW,
    )
    err = capsys.readouterr().err
    assert "entry 1: appended by this run without the CI key" in err
    assert "counted here, not covered" in err
    # A later gate alone (the pre-push gate, a developer's gate) did not collect it: not counted.
    found = _assess(repo, None)
    assert found.coverage is not None
    assert [u.seq for u in found.coverage.not_counted] == [1, 2]
    assert _used(found, 1) == []
    summary = (repo.parent / "out" / "summary.md").read_text()
    assert "appended by this run without the CI key" in summary


def test_collect_with_the_key_collects_again_rather_than_restate_uncovered_evidence(
    project: dict[str, Path],
) -> None:
    repo = project["repo"]
    GitStore(repo).create()
    _collect(repo, None, None)  # a developer's collect, no key: entry 1, uncovered
    _collect(repo, None, project["ci"], force=False)  # CI, incremental
    entries = list(ledger.entries(GitStore(repo)))
    assert [e.seq for e in entries] == [1, 2, 3]
    second = entries[1].statement().predicate
    assert second.kind == DOC
    assert "reaffirms" not in second.details  # ran again, did not restate entry 1
    _collect(repo, None, project["ci"], force=False)  # covered now: restated
    third = list(ledger.entries(GitStore(repo)))[3].statement().predicate
    assert third.details.get("reaffirms") == 2


def _old_checkpoint(key: Path, head: Head, commit: str) -> Statement:
    """A checkpoint as signed before checkpoints named their batch (no `first`)."""
    body = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": checkpoints.SUBJECT, "digest": {"sha256": head.hash}}],
        "predicateType": checkpoints.PREDICATE_TYPE,
        "predicate": {"seq": head.seq, "commit": commit, "signed_at": "2026-06-01T12:00:00Z"},
    }
    envelope = attest.signer_of(key)(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
    return checkpoints.statement(
        envelope, head, collector="collect", who="ci", signer="ci", commit=commit, now=NOW
    )


def test_an_older_checkpoint_without_a_batch_covers_the_entry_it_signs_alone(
    project: dict[str, Path],
) -> None:
    repo = project["repo"]
    store = GitStore(repo)
    store.create()
    head = git(repo, "rev-parse", "HEAD").strip()
    statements = [_sast(head), replace(_sast(head), commit=head)]

    def old(h: Head) -> Statement:
        return _old_checkpoint(project["ci"], h, head)

    ledger.append(store, statements, checkpoint=old)  # entries 1, 2; checkpoint 3
    found = _assess(repo, None)
    assert found.coverage is not None
    assert [(s.first, s.last) for s in found.coverage.spans] == [(2, 2)]
    assert [u.seq for u in found.coverage.not_counted] == [1]
    assert _verify_script(store, None).passed[-1].endswith(": 1 sast")


def test_a_checkpoint_naming_an_impossible_batch_is_bad(project: dict[str, Path]) -> None:
    repo = project["repo"]
    store = GitStore(repo)
    store.create()
    head = git(repo, "rev-parse", "HEAD").strip()
    sign = attest.signer_of(project["ci"])

    def widened(h: Head) -> Statement:
        payload = orjson.loads(checkpoints.payload(h, head, NOW, 1))
        payload["predicate"]["first"] = h.seq + 1  # past the head it signs
        envelope = sign(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
        return checkpoints.statement(
            envelope, h, collector="collect", who="ci", signer="ci", commit=head, now=NOW
        )

    ledger.append(store, [_sast(head)], checkpoint=widened)
    found = _assess(repo, None)
    assert found.coverage is not None
    assert found.coverage.bad == (2,) and found.coverage.newest is None
    assert [u.seq for u in found.coverage.not_counted] == [1]
    assert _verify_script(store, None).problems == [
        f"{verify_script.LEDGER} entry 2: the checkpoint names no batch ending at entry 1"
    ]


def test_forged_evidence_on_a_central_postgresql_ledger_is_not_counted(
    project: dict[str, Path], pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sdl_tracker.ledger.pgstore import PgStore

    repo = project["repo"]
    store = PgStore(pg_url, "product")
    store.create()
    ws = open_workspace(repo, ledger_url=pg_url, repo_name="product")
    head = git(repo, "rev-parse", "HEAD").strip()

    def ci_run() -> None:
        collect.run(
            ws=ws,
            only=(),
            from_report=None,
            options={},
            force=True,
            fmt="text",
            now=NOW,
            signing_key=project["ci"],
        )

    ci_run()
    ledger.append(ws.store(), [_sast(head)])  # an appender role without the CI key
    ci_run()
    found = _assess(repo, None, url=pg_url)
    assert found.coverage is not None
    assert [u.seq for u in found.coverage.not_counted] == [3]
    assert _used(found, 3) == [] and _used(found, 4) == ["DM-1"]
    # `org status` (no roster there): the verdict's own checkpoint, placement checked.
    gate.run(
        ws=ws,
        release=None,
        policy_file=None,
        ratchet=False,
        junit=None,
        summary=None,
        now=NOW,
        signing_key=project["ci"],
    )  # verdict 6, checkpoint 7
    assert _org(pg_url)["checkpoint"] == {
        "verdict_checkpoint": 7,
        "verdict_covered": True,
        "head_is_checkpoint": True,
        "signature_checked": False,
        "problem": None,
    }
    honest = found.conformance
    verdict, objects = verdicts.statement(honest, passed=True, ratchet=(), who="x", now=NOW)
    ledger.append(ws.store(), [verdict], objects)  # a forged passing verdict: entry 8
    ci_run()  # entries 9, 10
    row = _org(pg_url)
    assert row["verdict"]["seq"] == 8 and row["checkpoint"]["verdict_covered"] is False
    assert main(["org", "status", "--ledger", pg_url]) == 0
    assert "product: its verdict (entry 8) is followed by no checkpoint" in capsys.readouterr().err


def _org(url: str) -> dict:  # type: ignore[type-arg]
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["org", "status", "--ledger", url, "--format", "json"]) == 0
    (row,) = json.loads(buffer.getvalue())["repositories"]
    return row  # type: ignore[no-any-return]


def test_a_batch_replayed_after_a_concurrent_push_is_signed_again(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from sdl_tracker.cli import signing
    from sdl_tracker.ledger import sync

    repo = project["repo"]
    bare = repo.parent / "origin.git"
    git(repo.parent, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    other = repo.parent / "other"
    git(repo.parent, "clone", "-q", str(bare), str(other))
    for root in (repo, other):
        GitStore(root).create()
        _collect(root, None, project["ci"])
    sync.push(GitStore(repo), "origin")
    ws = open_workspace(other)
    resign = signing.resigner(ws, project["ci"], who="ci", commit=None, now=NOW)
    assert sync.push(GitStore(other), "origin", resign).replayed == 1
    kinds = [e.statement().predicate.kind for e in ledger.entries(GitStore(other))]
    assert kinds == [DOC, "checkpoint", DOC, "checkpoint"]
    found = _assess(other, None)
    assert found.coverage is not None and found.coverage.not_counted == ()
    assert [(s.first, s.last) for s in found.coverage.spans] == [(1, 1), (3, 3)]
    capsys.readouterr()
    assert main(["ledger", "verify", "-C", str(other)]) == 0


def test_coverage_lines_fold_own_runs() -> None:
    cov = coverage.Coverage(entries=9, own=(3, 4, 5, 8))
    assert "entries 3-5, 8: appended by this run" in "\n".join(cov.lines())
    assert cov.lines()[0] == "checkpoints: no good checkpoint; none of the 9 entries is covered"


class _Text(HTMLParser):
    """The text of a page, and the text of its element with id `wanted`."""

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.depth, self.chunks, self.inside = wanted, 0, [], []  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth or ("id", self.wanted) in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self.depth:
            self.inside.append(data)


def test_the_evidence_package_leaves_out_and_shows_forged_evidence(
    project: dict[str, Path], tmp_path: Path
) -> None:
    """The export judges a release as its gate did, uncovered tool evidence left out, and says
    so: conformance.json's `coverage`, and index.html's checkpoint section (escaped)."""
    repo = project["repo"]
    store = GitStore(repo)
    store.create()
    head = git(repo, "rev-parse", "HEAD").strip()
    _collect(repo, None, project["ci"])  # CI: entry 1, checkpoint 2
    forged = replace(_sast(head), predicate=replace(_sast(head).predicate, collector=XSS))
    ledger.append(store, [forged])  # entry 3, by someone with push access and no key
    git(repo, "tag", "-a", "v1.0", "-m", "release 1.0")
    ws = open_workspace(repo)
    later = NOW + timedelta(minutes=5)
    args = {"policy_file": None, "ratchet": False, "junit": None, "summary": None, "now": later}
    gate.run(ws=ws, release="v1.0", **args)  # entry 4: the verdict, SI-2's sast not counted
    out = tmp_path / "evidence.zip"
    assert main(["export", "--release", "v1.0", "--out", str(out), "-C", str(repo)]) == 0
    with zipfile.ZipFile(out) as z:
        conformance = json.loads(z.read("conformance.json"))
        page = z.read("index.html").decode()
    assert [u["seq"] for u in conformance["coverage"]["not_counted"]] == [3]
    (si2,) = [r for r in conformance["requirements"] if r["id"] == "SI-2"]
    assert not [e for e in si2["evidence"] if e["seq"] == 3]  # not counted, not even considered
    assert "did not reproduce" not in page  # judged as the gate judged
    assert XSS not in page and html.escape(XSS, quote=False) in page  # the forger's string
    text = _Text("checkpoints")
    text.feed(page)
    shown = " ".join("".join(text.inside).split())
    assert (
        "checkpoints: newest good checkpoint entry 2 (Grace Hopper <grace@example.com>); "
        "1 of 3 entries not covered"
    ) in shown
    assert (
        f"entry 3 sast ({XSS}): not counted, appended without the CI key after checkpoint 2"
        in shown
    )
    assert "after checkpoint 2 — SI-1, SI-2, SVV-3 (its statement)" in shown
    assert "run `sdl-tracker ci` with the CI signing key (SDL_TRACKER_SIGNING_KEY)" in shown
    assert "covered: entries 1–2 (the batch 1–1, signed by checkpoint 2)" in shown
