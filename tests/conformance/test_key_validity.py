"""Roster key validity dates: signing with a key outside them is exit 2 naming the key and the
roster line; evaluation and `ledger verify` judge a signature by its entry's place in the
ledger (checkpoints are CI's clock) and its stated time, failing closed. Real keys."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.commands import keygen
from sdl_tracker.cli.main import main
from sdl_tracker.conformance import checkpoints, signatures, trust
from sdl_tracker.conformance.evidence import records
from sdl_tracker.errors import InputError
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.gitdata import attest
from sdl_tracker.ledger import GitStore
from sdl_tracker.ledger.chain import canonical
from sdl_tracker.models import Predicate, Provenance, Result, ResultStatus, Statement, Tool


def _raw_public(private: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    pem = private.with_name(private.name + ".pub").read_bytes()
    public = serialization.load_pem_public_key(pem)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def _dated(text: str, key: str, **dates: str) -> str:
    """The roster with `key` (as written in it) given validity dates."""
    fields = ", ".join(f"{k}: {v}" for k, v in dates.items())
    assert f'"{key}"' in text
    return text.replace(f'"{key}"', f'{{key: "{key}", {fields}}}', 1)


def _ssh_public(private: Path) -> str:
    return " ".join(private.with_name(private.name + ".pub").read_text().split()[:2])


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_roster_key_dates_parse_with_their_line(tmp_path: Path) -> None:
    keys = ssh_keys(tmp_path / "keys", ["ada", "tess"])
    tess = _ssh_public(keys["tess"])
    text = _dated(roster_text(keys), tess, not_before="2026-01-01", expires="2026-06-30")
    roster = roster_mod.parse(text)
    person = roster.by_email("tess@example.com")
    assert person is not None and person.ssh_keys == (tess,)
    (validity,) = person.validity
    assert validity.line == _line(text, tess.split()[1])
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert validity.outside(when) == ""
    assert validity.outside(datetime(2026, 6, 30, 23, tzinfo=timezone.utc)) == ""
    assert validity.outside(datetime(2026, 7, 1, tzinfo=timezone.utc)) == "expired on 2026-06-30"
    assert validity.outside(datetime(2025, 12, 31, tzinfo=timezone.utc)) == (
        "is not valid before 2026-01-01"
    )
    assert validity.outside(when, datetime(2026, 8, 1, tzinfo=timezone.utc)).startswith("expired")
    backwards = _dated(roster_text(keys), tess, not_before="2026-06-01", expires="2026-01-01")
    with pytest.raises(InputError, match=r"line \d+: people/1/keys: the key expires"):
        roster_mod.parse(backwards)
    unknown = roster_text(keys).replace(f'"{tess}"', f'{{key: "{tess}", valid_until: 2026-01-01}}')
    with pytest.raises(InputError, match="at people/1/keys/0"):
        roster_mod.parse(unknown)


@pytest.fixture
def people(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Tess's SSH key expired on 2020-01-31; Grace's is valid only from 2099; a CI keygen key
    (Grace's, ci role) expired on 2020-01-31."""
    monkeypatch.delenv("SDL_TRACKER_SIGNING_KEY", raising=False)
    keys = ssh_keys(git_repo.parent / "keys")
    ci_key = git_repo.parent / "keys" / "ci-key"
    keygen.run(out=ci_key)
    text = roster_text(
        keys,
        roles={"grace": ["approver", "product-security-lead", "ci"]},
        extra_keys={"grace": [_raw_public(ci_key)]},
    )
    text = _dated(text, _ssh_public(keys["tess"]), expires="2020-01-31")
    text = _dated(text, _ssh_public(keys["grace"]), not_before="2099-01-01")
    text = _dated(text, _raw_public(ci_key), expires="2020-01-31")
    commit_roster(git_repo, text)
    (git_repo / ".sdl-tracker.toml").write_text('[collect]\nenabled = ["documents"]\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "config")
    assert main(["init", "-C", str(git_repo)]) == 0
    return {"repo": git_repo, "ci": ci_key, "text": Path(text), **keys}


def _count(repo: Path) -> int:
    return len(list(ledger.entries(GitStore(repo))))


def test_signing_with_a_key_outside_its_dates_is_exit_2_naming_key_and_line(
    people: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = people["repo"]
    text = (repo / "sdl-roster.yaml").read_text()
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 pentest\n")
    before = _count(repo)
    capsys.readouterr()
    argv = ["record", "pentest_report", str(report), "-r", "SVV-4", "-C", str(repo)]
    assert main([*argv, "--sign", "--key", str(people["tess"])]) == 2
    err = capsys.readouterr().err
    tess_line = _line(text, _ssh_public(people["tess"]).split()[1])
    assert "sdl-roster.yaml at " in err and f"line {tess_line}) expired on 2020-01-31" in err
    assert _count(repo) == before
    # approve: Grace's key is not valid yet.
    soon = f"{datetime.now(timezone.utc) + timedelta(days=30):%Y-%m-%d}"
    waive = ["waive", "SVV-4", "--reason", "pentest booked", "--expires", soon, "-C", str(repo)]
    waive += ["--approver", "Grace Hopper <grace@example.com>"]
    # waive: the request signed with Tess's expired key is refused like any other signature.
    git(repo, "config", "user.email", "tess@example.com")
    assert main([*waive, "--key", str(people["tess"])]) == 2
    assert f"line {tess_line}) expired on 2020-01-31" in capsys.readouterr().err
    assert _count(repo) == before
    git(repo, "config", "user.email", "ada@example.com")
    assert main([*waive, "--key", str(people["ada"])]) == 0
    seq = _count(repo) - 1  # the request, then Ada's signature of it
    capsys.readouterr()
    assert main(["approve", str(seq), "--key", str(people["grace"]), "-C", str(repo)]) == 2
    err = capsys.readouterr().err
    grace_line = _line(text, _ssh_public(people["grace"]).split()[1])
    assert f"line {grace_line}) is not valid before 2099-01-01" in err
    assert _count(repo) == seq + 1
    # checkpoint signing in collect: exit 2 before any tool runs.
    monkeypatch.setenv("SDL_TRACKER_SIGNING_KEY", str(people["ci"]))
    assert main(["collect", "-C", str(repo)]) == 2
    err = capsys.readouterr().err
    ci_line = _line(text, _raw_public(people["ci"]).removeprefix("ed25519:"))
    assert f"SDL_TRACKER_SIGNING_KEY {people['ci']}: the key ed25519:" in err
    assert f"line {ci_line}) expired on 2020-01-31: it cannot sign checkpoints now" in err
    assert _count(repo) == seq + 1


def _attestation(at: datetime) -> Statement:
    return Statement(
        commit=None,
        artifacts=(),
        predicate=Predicate(
            kind="pentest_report",
            collector="record",
            tool=Tool("sdl-tracker", "0"),
            requirements=("SVV-4",),
            result=Result(status=ResultStatus.PASS, summary=f"pentest of {at:%Y-%m-%d}"),
            recorded_by="Tess Tester <tess@example.com>",
            recorded_at=at,
            provenance=Provenance.ATTESTED,
        ),
    )


def _signed(key: Path, at: datetime) -> list[Statement]:
    """An attestation stated at `at` and its signature, as anyone holding `key` can make them
    (our own `record --sign` would refuse an expired key; a forger uses the library)."""
    st = _attestation(at)
    envelope = attest.sign(key, canonical(st))
    sig = signatures.statement(
        envelope.to_json(),
        method=envelope.method,
        collector="record",
        signer="Tess Tester <tess@example.com>",
        summary="signs",
        commit=None,
        now=at,
    )
    return [st, sig]


def _checkpoint(key: Path, at: datetime):  # type: ignore[no-untyped-def]
    return checkpoints.Key(path=key, signer="CI").maker(
        collector="collect", who="ci", commit=None, now=at
    )


def test_a_signature_is_judged_by_its_place_in_the_ledger_and_its_stated_time(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = git_repo.parent / "keys"
    keys.mkdir()
    tess, ci_key = keys / "tess-key", keys / "ci-key"
    keygen.run(out=tess)
    keygen.run(out=ci_key)
    people = ssh_keys(keys, ["ada"])
    text = roster_text(
        people, roles={"ada": ["developer", "ci"]}, extra_keys={"ada": [_raw_public(ci_key)]}
    )
    text += (
        "  - name: Tess Tester\n    emails: [tess@example.com]\n"
        f'    keys: [{{key: "{_raw_public(tess)}", not_before: 2026-06-10, '
        "expires: 2026-06-30}]\n    roles: [independent-tester]\n"
    )
    commit_roster(git_repo, text)
    store = GitStore(git_repo)
    store.create()

    def day(d: int, month: int = 6) -> datetime:
        return datetime(2026, month, d, 12, tzinfo=timezone.utc)

    ledger.append(store, [_attestation(day(1))], checkpoint=_checkpoint(ci_key, day(5)))  # 1, 2
    ledger.append(store, _signed(tess, day(20)))  # 3, 4: stated inside, placed before June 12
    ledger.append(store, _signed(tess, day(7)))  # 5, 6: stated before not_before
    ledger.append(store, [_attestation(day(8))], checkpoint=_checkpoint(ci_key, day(12)))  # 7, 8
    ledger.append(store, _signed(tess, day(25)))  # 9, 10: between June 12 and July 10: fine
    ledger.append(store, [_attestation(day(8))], checkpoint=_checkpoint(ci_key, day(10, 7)))
    ledger.append(store, _signed(tess, day(28)))  # 13, 14: backdated, after July 10's checkpoint
    ledger.append(store, _signed(tess, day(3, 7)))  # 15, 16: stated after its expiry
    roster = roster_mod.parse(text)
    report = trust.check(records(ledger.entries(store)), roster)
    verdict = {c.seq: c.why for c in report.checked}
    line = _line(text, _raw_public(tess).removeprefix("ed25519:"))
    assert verdict[4] == "" and verdict[10] == ""
    assert verdict[6] == (
        f"the key {_raw_public(tess)[:40]}… (sdl-roster.yaml line {line}) is not valid before "
        "2026-06-10"
    )
    assert verdict[14].endswith("expired on 2026-06-30") and verdict[16] == verdict[14]
    assert report.signed == frozenset({3, 9})
    # A signature stated on June 20 but placed before the checkpoint of June 5: too early.
    early = _signed(tess, day(20))
    store2 = GitStore(git_repo, "other-ledger")
    store2.create()
    ledger.append(store2, early, checkpoint=_checkpoint(ci_key, day(5)))
    (bad,) = trust.check(records(ledger.entries(store2)), roster).bad
    assert "is not valid before 2026-06-10" in bad.why
    # `ledger verify` fails on them, saying why.
    capsys.readouterr()
    assert main(["ledger", "verify", "--format", "json", "-C", str(git_repo)]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert any("entry 6" in p and "is not valid before 2026-06-10" in p for p in problems)
    assert any("entry 14" in p and "expired on 2026-06-30" in p for p in problems)


def test_a_checkpoint_signed_after_its_key_expired_is_bad(git_repo: Path) -> None:
    keys = git_repo.parent / "keys"
    keys.mkdir()
    ci_key = keys / "ci-key"
    keygen.run(out=ci_key)
    text = (
        "people:\n  - name: CI\n    emails: [ci@example.com]\n"
        f'    keys: [{{key: "{_raw_public(ci_key)}", expires: 2026-06-30}}]\n    roles: [ci]\n'
    )
    roster = roster_mod.parse(text)
    store = GitStore(git_repo)
    store.create()
    june, july = (datetime(2026, m, 20, tzinfo=timezone.utc) for m in (6, 7))
    ledger.append(store, [_attestation(june)], checkpoint=_checkpoint(ci_key, june))
    ledger.append(store, [_attestation(july)], checkpoint=_checkpoint(ci_key, july))
    found = [e for e in ledger.entries(store) if checkpoints.is_checkpoint(e)]
    report = checkpoints.report(found, 4, roster, every=True)
    assert [c.seq for c in report.good] == [2]
    (bad,) = report.bad
    assert bad.seq == 4 and bad.why.endswith("(sdl-roster.yaml line 4) expired on 2026-06-30")
