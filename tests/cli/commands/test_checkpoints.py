"""Signed checkpoints: `collect`, `gate` and `ci` sign the ledger head with a CI key holding the
ci role in the roster; `ledger verify` checks them. Real keys (`sdl-tracker keygen`, ssh-keygen),
real git repositories; the attacks re-chain the ledger by hand as a forger with the format would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.commands import collect, gate, keygen
from sdl_tracker.cli.main import main
from sdl_tracker.conformance import checkpoints
from sdl_tracker.errors import InputError
from sdl_tracker.ledger import DirStore, GitStore
from sdl_tracker.ledger import trust as ledger_trust
from sdl_tracker.ledger.chain import Entry, Head
from sdl_tracker.ledger.store import Store
from sdl_tracker.workspace import open_workspace

SECURITY = "# Security\n\n## Reporting a vulnerability\n\nMail us.\n\n## Disclosure\n\n90 days.\n"
CONFIG = '[collect]\nenabled = ["documents"]\n'


def _raw_public(private: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    pem = private.with_name(private.name + ".pub").read_bytes()
    public = serialization.load_pem_public_key(pem)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


@pytest.fixture
def project(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A repository with a roster: ada (developer), grace, tess, and a CI keygen key held by
    ada under the ci role only when the test asks; keys live outside the repository."""
    monkeypatch.delenv("SDL_TRACKER_SIGNING_KEY", raising=False)
    keys = ssh_keys(git_repo.parent / "keys")
    ci_key = git_repo.parent / "keys" / "ci-key"
    keygen.run(out=ci_key)
    rogue = git_repo.parent / "keys" / "rogue-key"
    keygen.run(out=rogue)
    (git_repo / ".sdl-tracker.toml").write_text(CONFIG)
    (git_repo / "SECURITY.md").write_text(SECURITY)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "security policy")
    # The CI key belongs to Grace's roster entry with the ci role; the rogue key is Tess's,
    # who has no ci role.
    text = roster_text(
        keys,
        roles={"grace": ["approver", "product-security-lead", "ci"]},
        extra_keys={"grace": [_raw_public(ci_key)], "tess": [_raw_public(rogue)]},
    )
    commit_roster(git_repo, text)
    return {"repo": git_repo, "ci": ci_key, "rogue": rogue, **keys}


def _store(repo: Path, kind: str) -> tuple[Store, Path | None]:
    if kind == "dir":
        path = repo.parent / "ledger"
        return DirStore(path), path
    return GitStore(repo), None


def _collect(repo: Path, ledger_dir: Path | None, key: Path | None) -> int:
    ws = open_workspace(repo, ledger_dir=ledger_dir)
    return collect.run(
        ws=ws, only=(), from_report=None, options={}, force=True, fmt="text", signing_key=key
    )


def _signed(project: dict[str, Path], kind: str) -> tuple[Path, Store, Path | None]:
    """The project's repository with a new `kind` ledger holding one signed `collect`: the
    evidence (entry 1) and its checkpoint (entry 2)."""
    repo = project["repo"]
    store, ledger_dir = _store(repo, kind)
    store.create()
    assert _collect(repo, ledger_dir, project["ci"]) == 0
    return repo, store, ledger_dir


@pytest.fixture
def signed_dir(project: dict[str, Path]) -> tuple[Path, Store, Path | None]:
    """`_signed` on a directory ledger."""
    return _signed(project, "dir")


def _verify(repo: Path, ledger_dir: Path | None, capsys: pytest.CaptureFixture[str]) -> dict:
    args = ["ledger", "verify", "--format", "json", "-C", str(repo)]
    args += ["--ledger-dir", str(ledger_dir)] if ledger_dir else []
    code = main(args)
    out = json.loads(capsys.readouterr().out)
    out["code"] = code
    return out


@pytest.mark.parametrize("kind", ["git", "dir"])
def test_collect_and_gate_sign_the_head_and_verify_checks_it(
    project: dict[str, Path], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store, ledger_dir = _signed(project, kind)
    ws = open_workspace(repo, ledger_dir=ledger_dir)
    gate.run(
        ws=ws,
        release=None,
        policy_file=None,
        ratchet=False,
        junit=None,
        summary=None,
        signing_key=project["ci"],
    )
    err = capsys.readouterr().err
    assert "the last a checkpoint signing entry 1" in err
    entries = list(ledger.entries(store))
    kinds = [e.statement().predicate.kind for e in entries]
    assert kinds == [
        "document:vulnerability_disclosure_policy",
        "checkpoint",
        "release_gate_record",
        "checkpoint",
    ]
    for cp in (entries[1], entries[3]):
        assert cp.statement().predicate.details["seq"] == cp.seq - 1
        assert cp.statement().predicate.details["hash"] == cp.prev
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 0, report
    assert report["checkpoints"]["verified"] == 2
    assert report["checkpoints"]["covered_up_to"] == 3
    assert report["checkpoints"]["uncovered"] == 0


def test_an_unsigned_ledger_is_reported_unsigned_and_still_passes(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SDL_TRACKER_SIGNING_KEY", raising=False)
    (git_repo / ".sdl-tracker.toml").write_text(CONFIG)
    (git_repo / "SECURITY.md").write_text(SECURITY)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "docs")
    GitStore(git_repo).create()
    assert _collect(git_repo, None, None) == 0
    capsys.readouterr()
    assert main(["ledger", "verify", "-C", str(git_repo)]) == 0
    err = capsys.readouterr().err
    assert "checkpoints: none (unsigned ledger" in err
    assert "attestations: 0 signed (signature verified), 0 unsigned, 0 bad" in err


def _rechain(entries: list[Entry], edit: dict[int, tuple[bytes, bytes]]) -> list[Entry]:
    """The entries re-sealed from the first edited one on, as a forger with the format would:
    `edit` maps a seq to (old, new) bytes replaced in its statement."""
    from sdl_tracker.ledger.chain import GENESIS, parse

    out: list[Entry] = []
    prev = GENESIS
    for entry in entries:
        start = entry.raw.index(b',"statement":') + len(b',"statement":')
        statement = entry.raw[start:-1]
        if entry.seq in edit:
            old, new = edit[entry.seq]
            assert old in statement
            statement = statement.replace(old, new)
        listed = entry.raw[entry.raw.index(b'"objects":[') + 11 : entry.raw.index(b'],"prev"')]
        body = b'{"objects":[%s],"prev":"%s","seq":%d,"statement":%s}' % (
            listed,
            prev.encode(),
            entry.seq,
            statement,
        )
        digest = hashlib.sha256(body).hexdigest().encode()
        sealed = parse(b'{"hash":"' + digest + b'",' + body[1:])
        out.append(sealed)
        prev = sealed.hash
    return out


def _rewrite(store: Store, repo: Path, forged: list[Entry]) -> None:
    """Replace the whole ledger by `forged` through the store's own plumbing (a fresh git
    branch, or a fresh directory), and drop this machine's memo: an auditor's fresh check."""
    if isinstance(store, DirStore):
        objects = {o: store.read_object(o) for e in forged for o in e.objects}
        (store.path / "entries.jsonl").write_bytes(b"")
        (store.path / "HEAD").write_text('{"bytes":0,"hash":"","seq":0}')
        memo = ledger_trust.memo_path(store)
        assert memo is not None
        memo.unlink(missing_ok=True)
        store.append(forged, objects, expected=None)  # type: ignore[arg-type]
        memo.unlink(missing_ok=True)
        return
    assert isinstance(store, GitStore)
    objects = {o: store.read_object(o) for e in forged for o in e.objects}
    fresh = GitStore(repo, "forged")
    fresh.create()
    fresh.append(forged, objects, expected=None)  # type: ignore[arg-type]
    tip = git(repo, "rev-parse", "refs/heads/forged").strip()
    git(repo, "update-ref", "refs/heads/sdl-ledger", tip)
    git(repo, "update-ref", "-d", "refs/heads/forged")
    common = repo / ".git" / "sdl-tracker"
    for memo in common.glob("verified-*"):
        memo.unlink()


@pytest.mark.parametrize("kind", ["git", "dir"])
def test_a_ledger_rechained_by_hand_contradicts_its_checkpoint(
    project: dict[str, Path], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store, ledger_dir = _signed(project, kind)
    entries = list(ledger.entries(store))
    assert len(entries) == 2
    # Turn the failing evidence into a pass and re-chain: every hash is consistent again.
    forged = _rechain(entries, {1: (b'"status":"fail"', b'"status":"pass"')})
    _rewrite(store, repo, forged)
    ledger.verify(store)  # the chain itself verifies: only the checkpoint tells
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 1
    (bad,) = report["checkpoints"]["bad"]
    assert bad["entry"] == 2
    assert "re-chained" in bad["reason"]
    # And CI refuses to sign on top of it: exit 2, nothing appended.
    with pytest.raises(InputError, match="checkpoint entry 2 is bad"):
        _collect(repo, ledger_dir, project["ci"])
    assert store.head() == Head(2, forged[-1].hash)


def test_dropping_the_checkpoints_leaves_the_ledger_uncovered_and_verify_fails(
    signed_dir: tuple[Path, Store, Path | None], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store, ledger_dir = signed_dir
    first, _checkpoint = list(ledger.entries(store))
    _rewrite(store, repo, _rechain([first], {}))
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 1
    assert report["checkpoints"]["verified"] == 0
    assert any("no good checkpoint" in p for p in report["problems"])


def test_a_tampered_checkpoint_signature_is_bad(
    signed_dir: tuple[Path, Store, Path | None], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store, ledger_dir = signed_dir
    entries = list(ledger.entries(store))
    details = entries[1].statement().predicate.details
    sig = details["envelope"]["signatures"][0]["sig"]  # type: ignore[index,call-overload]
    raw = bytearray(base64.b64decode(sig))
    raw[5] ^= 1
    forged = _rechain(entries, {2: (sig.encode(), base64.b64encode(bytes(raw)))})
    _rewrite(store, repo, forged)
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 1
    (bad,) = report["checkpoints"]["bad"]
    assert bad["entry"] == 2 and "does not verify" in bad["reason"]


def test_a_checkpoint_signed_by_a_key_without_the_ci_role_is_bad(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project["repo"]
    store, ledger_dir = _store(repo, "dir")
    store.create()
    # The command refuses the key before running anything: exit 2, nothing appended.
    with pytest.raises(InputError, match="does not hold the ci role"):
        _collect(repo, ledger_dir, project["rogue"])
    assert store.head() is None
    assert main(["collect", "-C", str(repo), "--ledger-dir", str(ledger_dir)]) == 0
    # A forger appends a checkpoint made with Tess's key by hand: verify calls it bad.
    (entry,) = list(ledger.entries(store))
    forger = checkpoints.Key(path=project["rogue"], signer="Tess Tester <tess@example.com>")
    make = forger.maker(
        collector="collect", who="Tess", commit=None, now=datetime.now(timezone.utc)
    )
    ledger.append(store, [make(Head(entry.seq, entry.hash))])
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 1
    (bad,) = report["checkpoints"]["bad"]
    assert "does not hold the ci role" in bad["reason"]


def test_a_copied_checkpoint_is_misplaced_and_bad(
    signed_dir: tuple[Path, Store, Path | None], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store, ledger_dir = signed_dir
    assert main(["collect", "-C", str(repo), "--ledger-dir", str(ledger_dir)]) == 0
    old = list(ledger.entries(store))[1]
    ledger.append(store, [old.statement()])  # the old, genuinely signed checkpoint, replayed
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 1
    (bad,) = report["checkpoints"]["bad"]
    assert bad["entry"] == 4 and "signs entry 1" in bad["reason"]


def test_signing_failures_exit_2_with_nothing_appended(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = project["repo"]
    store, ledger_dir = _store(repo, "dir")
    store.create()
    not_a_key = repo.parent / "not-a-key"
    not_a_key.write_text("hello\n")
    unknown = repo.parent / "keys" / "unknown-key"
    keygen.run(out=unknown)
    committed = repo / "ci-key"
    committed.write_bytes(project["ci"].read_bytes())
    git(repo, "add", "ci-key")
    git(repo, "commit", "-q", "-m", "oops")
    for key, words in (
        (not_a_key, "cannot sign with it"),
        (repo.parent / "missing-key", "cannot sign with it"),
        (unknown, "is not in the roster"),
        (committed, "committed to the repository"),
    ):
        capsys.readouterr()
        args = ["collect", "-C", str(repo), "--ledger-dir", str(ledger_dir)]
        monkeypatch.setenv("SDL_TRACKER_SIGNING_KEY", str(key))
        assert main(args) == 2
        assert words in capsys.readouterr().err
        assert store.head() is None


def test_an_ssh_ci_key_signs_through_the_config_and_ci(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project["repo"]
    keys = {k: project[k] for k in ("ada", "grace", "tess")}
    commit_roster(repo, roster_text(keys, roles={"ada": ["developer", "ci"]}), "ada runs CI")
    (repo / ".sdl-tracker.toml").write_text(
        CONFIG + f'\n[ledger]\nsigning_key = "{project["ada"]}"\n'
    )
    git(repo, "commit", "-qam", "ci key in the config")
    code = main(["ci", "--out", str(repo.parent / "out"), "-C", str(repo)])
    assert code in (0, 1)  # the gate's verdict; the checkpoints are what matters here
    kinds = [e.statement().predicate.kind for e in ledger.entries(GitStore(repo))]
    assert kinds == [
        "document:vulnerability_disclosure_policy",
        "checkpoint",
        "release_gate_record",
        "checkpoint",
    ]
    report = _verify(repo, None, capsys)
    assert report["code"] == 0, report
    assert report["checkpoints"]["verified"] == 2


def test_verify_counts_attestation_signatures(
    project: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project["repo"]
    GitStore(repo).create()
    report_file = tmp_path / "pentest.txt"
    report_file.write_text("pentest: no findings\n")
    base = ["record", "pentest_report", str(report_file), "-C", str(repo)]
    assert main([*base, "--sign", "--key", str(project["tess"])]) == 0
    assert main([*base, "--note", "second"]) == 0
    capsys.readouterr()
    report = _verify(repo, None, capsys)
    assert report["attestations"]["verified"] == 1
    assert report["attestations"]["unsigned"] == 1
    assert report["attestations"]["bad"] == []
    # The roster names a ci key but no checkpoint signs anything: reported, and it fails.
    assert report["checkpoints"]["verified"] == 0
    assert report["code"] == 1
    assert any("no good checkpoint" in p for p in report["problems"])


def test_checkpoint_payload_is_an_in_toto_statement_naming_the_head() -> None:
    data = json.loads(
        checkpoints.payload(Head(7, "ab" * 32), "c" * 40, datetime(2026, 1, 2, tzinfo=timezone.utc))
    )
    assert data["subject"] == [{"name": checkpoints.SUBJECT, "digest": {"sha256": "ab" * 32}}]
    assert data["predicate"]["seq"] == 7


def test_a_rotated_ci_key_fails_verify_until_the_new_key_signs(
    project: dict[str, Path],
    signed_dir: tuple[Path, Store, Path | None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, store, ledger_dir = signed_dir
    new_key = repo.parent / "keys" / "ci-key-2"
    keygen.run(out=new_key)
    keys = {k: project[k] for k in ("ada", "grace", "tess")}
    text = roster_text(
        keys,
        roles={"grace": ["approver", "product-security-lead", "ci"]},
        extra_keys={"grace": [_raw_public(new_key)]},
    )
    commit_roster(repo, text, "rotate the CI key")
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 1  # the newest checkpoint's key is no longer in the roster
    assert "is not in the roster" in report["checkpoints"]["bad"][0]["reason"]
    # The old key is refused for new checkpoints; the new one signs, and covers the old.
    with pytest.raises(InputError, match="is not in the roster"):
        _collect(repo, ledger_dir, project["ci"])
    assert _collect(repo, ledger_dir, new_key) == 0
    assert "the checkpoint made now covers it" in capsys.readouterr().err
    report = _verify(repo, ledger_dir, capsys)
    assert report["code"] == 0, report
    assert report["checkpoints"]["covered_up_to"] == 3
    args = ["ledger", "verify", "--all-signatures", "--format", "json", "-C", str(repo)]
    assert main([*args, "--ledger-dir", str(ledger_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["checkpoints"]["superseded"] == [2]


def test_checkpoints_on_a_central_postgresql_ledger(
    project: dict[str, Path], pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sdl_tracker.ledger.pgstore import PgStore

    repo = project["repo"]
    PgStore(pg_url, "product").create()
    ws = open_workspace(repo, ledger_url=pg_url, repo_name="product")
    run = collect.run(
        ws=ws,
        only=(),
        from_report=None,
        options={},
        force=True,
        fmt="text",
        signing_key=project["ci"],
    )
    assert run == 0
    kinds = [e.statement().predicate.kind for e in ledger.entries(ws.store())]
    assert kinds == ["document:vulnerability_disclosure_policy", "checkpoint"]
    capsys.readouterr()
    args = ["ledger", "verify", "--format", "json", "--ledger", pg_url, "--repo-name", "product"]
    assert main([*args, "-C", str(repo)]) == 0
    assert json.loads(capsys.readouterr().out)["checkpoints"]["verified"] == 1


def _org(capsys: pytest.CaptureFixture[str], pg_url: str, *rosters: str) -> dict:  # type: ignore[type-arg]
    args = ["org", "status", "--format", "json", "--ledger", pg_url, "--only", "product"]
    for r in rosters:
        args += ["--roster", r]
    assert main(args) == 0
    (row,) = json.loads(capsys.readouterr().out)["repositories"]
    return row  # type: ignore[no-any-return]


def test_org_status_checks_each_chains_signatures_against_its_roster(
    project: dict[str, Path], pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sdl_tracker.ledger.pgstore import PgStore

    repo = project["repo"]
    PgStore(pg_url, "product").create()
    ws = open_workspace(repo, ledger_url=pg_url, repo_name="product")
    run = collect.run(
        ws=ws,
        only=(),
        from_report=None,
        options={},
        force=True,
        fmt="text",
        signing_key=project["ci"],
    )
    assert run == 0
    capsys.readouterr()
    # No roster named: the row says the signatures were not checked, never that they passed.
    row = _org(capsys, pg_url)
    assert row["signatures"]["state"] == "not checked" and row["gate"] == "no verdict"
    # The repository's checkout: its roster at HEAD holds the CI key with the ci role.
    row = _org(capsys, pg_url, f"product={repo}")
    assert row["signatures"]["state"] == "verified"
    assert row["signatures"]["checkpoints_verified"] == 1
    assert row["signatures"]["roster"].startswith("sdl-roster.yaml at ")
    # A roster in which the CI key's holder lacks the ci role: the checkpoint does not verify,
    # and the row says so (the table's totals too).
    keys = {k: project[k] for k in ("ada", "grace", "tess")}
    no_ci = tmp_path / "roster-without-ci.yaml"
    no_ci.write_text(roster_text(keys, extra_keys={"grace": [_raw_public(project["ci"])]}))
    row = _org(capsys, pg_url, f"product={no_ci}")
    assert row["gate"] == "bad signatures" and row["signatures"]["state"] == "failed"
    (problem,) = row["signatures"]["problems"]
    assert problem.startswith("checkpoint entry 2 is bad:") and "ci role" in problem
    argv = ["org", "status", "--ledger", pg_url, "--only", "product", "--roster"]
    assert main([*argv, f"product={no_ci}"]) == 0
    err = capsys.readouterr().err
    assert "product: signatures: checkpoint entry 2 is bad:" in err
    assert "1 with BAD SIGNATURES" in err
    out = tmp_path / "org.zip"
    export = ["org", "export", "--ledger", pg_url, "--only", "product", "--out", str(out)]
    assert main([*export, "--roster", f"product={no_ci}"]) == 0
    with zipfile.ZipFile(out) as z:
        page = z.read("index.html").decode()
        (row,) = json.loads(z.read("org-status.json"))["repositories"]
    assert '<span class="verdict unreadable">bad signatures</span>' in page
    assert "product: signatures: checkpoint entry 2 is bad:" in page
    assert row["signatures"]["state"] == "failed"
    assert main(["org", "status", "--ledger", pg_url, "--only", "product"]) == 0
    assert "signatures not checked for product: name each one's roster" in capsys.readouterr().err
    # Bad input: exit 2, saying what was expected.
    for given, words in (
        ("elsewhere=" + str(repo), "--roster names elsewhere, which is not a chain reported on"),
        ("product", "expected NAME=PATH"),
        (f"product={tmp_path / 'none.yaml'}", "cannot read the roster file"),
        (f"product={tmp_path}", "no sdl-roster.yaml committed at HEAD"),
    ):
        assert main([*argv, given]) == 2, given
        assert words in capsys.readouterr().err, given


def test_sync_drops_the_local_checkpoints_it_replays(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
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
        assert _collect(root, None, project["ci"]) == 0
    sync.push(GitStore(repo), "origin")
    result = sync.push(GitStore(other), "origin")
    assert result.replayed == 1  # the evidence; its checkpoint named the old local head
    kinds = [e.statement().predicate.kind for e in ledger.entries(GitStore(other))]
    doc = "document:vulnerability_disclosure_policy"
    assert kinds == [doc, "checkpoint", doc]
    report = _verify(other, None, capsys)
    assert report["code"] == 0, report
    assert report["checkpoints"]["uncovered"] == 1


def test_a_gate_without_the_key_says_its_verdict_is_not_covered(
    project: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project["repo"]
    store, ledger_dir = _store(repo, "dir")
    store.create()
    ws = open_workspace(repo, ledger_dir=ledger_dir)
    gate.run(ws=ws, release=None, policy_file=None, ratchet=False, junit=None, summary=None)
    assert "not covered by a signed checkpoint" in capsys.readouterr().err
    assert [e.statement().predicate.kind for e in ledger.entries(store)] == ["release_gate_record"]


def test_a_directory_ledger_checked_outside_any_repository_says_signers_are_not_judged(
    signed_dir: tuple[Path, Store, Path | None], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store, ledger_dir = signed_dir
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    capsys.readouterr()
    assert main(["ledger", "verify", "-C", str(alone), "--ledger-dir", str(ledger_dir)]) == 0
    assert "1 checkpoint signatures not judged: no repository here" in capsys.readouterr().err
