"""Who approves a waiver (`conformance.trust`): real ssh-keygen signatures, a real roster and
`.mailmap` in one real repository per module; each test applies the rules in milliseconds (the
`approve` command's tests in tests/cli/commands/test_approve.py run the CLI per case)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import IDENTITY
from helpers import git
from identity import roster_text, ssh_keys

from sdl_tracker.cli.commands import record as record_cmd
from sdl_tracker.conformance import trust, waivers
from sdl_tracker.conformance.evidence import Record, records
from sdl_tracker.conformance.waivers import Approval
from sdl_tracker.ledger.chain import canonical
from sdl_tracker.models import Statement

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ADA = "Ada Lovelace <ada@example.com>"
GRACE = "Grace Hopper <grace@example.com>"
TESS = "Tess Tester <tess@example.com>"
#: waiver name -> who asked for it (the `requested_by` of the entry)
REQUESTERS = {
    "asked by ada": ADA,
    "asked by ada+tag, upper-case": "Ada <ADA+x@Example.com>",
    "asked by ada's mailmapped address": "Ada <a.l@example.net>",
    "asked by ada's second roster address": "Ada <lovelace@example.org>",
    "asked by bob": "Bob <bob@example.com>",
    "asked by bob, unsigned": "Bob <bob@example.com>",
    "asked by bob, forged approval": "Bob <bob@example.com>",
    "asked by grace's old address": "Grace <grace@old.example.com>",
    "claimed to be asked by tess": TESS,
    "asked by bob, bad request signature": "Bob <bob@example.com>",
}
BOB = "Bob <bob@example.com>"


@dataclass(frozen=True)
class Ledger:
    root: Path
    head: str
    records: tuple[Record, ...]
    seq: dict[str, int]
    """waiver name -> its entry's seq"""


def _waiver(name: str, requester: str) -> Statement:
    return waivers.statement(
        target="SVV-3",
        reason=name,
        approver=GRACE,
        requested_by=requester,
        expires=NOW + timedelta(days=30),
        commit=None,
        now=NOW,
    )


@pytest.fixture(scope="module")
def ledger_(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    base = tmp_path_factory.mktemp("trust")
    keys = ssh_keys(base / "keys")
    root = base / "repo"
    root.mkdir()
    config = base / "gitconfig"
    config.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(config))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name, value in IDENTITY.items():
            mp.setenv(name, value)
        git(root, "init", "-q", "-b", "main")
        tess = {"GIT_AUTHOR_NAME": "Tess", "GIT_AUTHOR_EMAIL": "tess@example.com"}
        git(root, "commit", "-q", "--allow-empty", "-m", "before the release", env=tess)
        git(root, "tag", "v1.0")
        text = roster_text(
            keys,
            emails={"ada": ["lovelace@example.org"], "grace": ["grace@old.example.com"]},
        )
        # Bob holds no role: any person the roster lists with a key can ask for a waiver
        bob_key = ssh_keys(base / "keys", ["bob"])["bob"]
        public = " ".join(bob_key.with_name("bob_ed25519.pub").read_text().split()[:2])
        text += f'  - name: Bob\n    emails: [bob@example.com]\n    keys: ["{public}"]\n'
        (root / "sdl-roster.yaml").write_text(text)
        (root / ".mailmap").write_text(
            "Ada Lovelace <ada@example.com> <a.l@example.net>\n"
            "Grace Hopper <grace@new.example.com> <grace@old.example.com>\n"
        )
        git(root, "add", ".")
        bob = {"GIT_AUTHOR_NAME": "Bob", "GIT_AUTHOR_EMAIL": "Bob+ci@Example.com"}
        git(root, "commit", "-q", "-m", "roster and mailmap", env=bob)
        git(root, "commit", "-q", "--allow-empty", "-m", "release")
        head = git(root, "rev-parse", "HEAD")

        made = {name: _waiver(name, who) for name, who in REQUESTERS.items()}
        statements: list[Statement] = list(made.values())
        sign = record_cmd._signature
        keys["bob"] = bob_key
        # each requester signs their request (`waive` does); the requester's second signature
        # is an attempt to approve it
        for name in REQUESTERS:
            if name.startswith("asked by ada"):
                statements.append(sign(made[name], keys["ada"], ADA))
                statements.append(sign(made[name], keys["ada"], ADA))
            elif name in ("asked by bob", "asked by bob, forged approval"):
                statements.append(sign(made[name], keys["bob"], BOB))
        statements.append(sign(made["asked by ada"], keys["grace"], GRACE))
        statements.append(sign(made["asked by bob"], keys["tess"], TESS))
        statements.append(sign(made["asked by bob"], keys["ada"], ADA))
        statements.append(sign(made["asked by bob"], keys["grace"], GRACE))
        for _ in range(2):
            statements.append(sign(made["asked by grace's old address"], keys["grace"], GRACE))
        statements.append(sign(made["asked by ada+tag, upper-case"], keys["tess"], TESS))
        # the attack: Grace names Tess as the requester and approves it with her own key
        statements.append(sign(made["claimed to be asked by tess"], keys["grace"], GRACE))
        # Grace's signature of one waiver, its payload swapped for another: a bad signature
        statements.append(
            _swapped(sign(made["asked by bob, unsigned"], keys["grace"], GRACE), made, "forged")
        )
        # Bob's request signature moved onto another request: bad, so nothing proves who asked
        bad_request = sign(made["asked by bob, unsigned"], keys["bob"], BOB)
        statements.append(_swapped(bad_request, made, "bad request signature"))
        statements.append(sign(made["asked by bob, bad request signature"], keys["grace"], GRACE))
        recs = records(statements)
        seq = {name: i for i, name in enumerate(REQUESTERS, start=1)}
        yield Ledger(root, head, recs, seq)


def _swapped(good: Statement, made: dict[str, Statement], onto: str) -> Statement:
    """`good`, its envelope's payload swapped for the waiver whose name contains `onto`."""
    (other,) = [st for name, st in made.items() if onto in name]
    envelope = dict(good.predicate.details["envelope"])  # type: ignore[arg-type]
    envelope["payload"] = base64.b64encode(canonical(other)).decode()
    details = {**good.predicate.details, "envelope": envelope}
    return replace(good, predicate=replace(good.predicate, details=details))


@pytest.fixture(scope="module")
def checked(ledger_: Ledger) -> trust.Trust:
    return trust.gather(ledger_.root, ledger_.head, ledger_.records)


def test_gather_reads_the_roster_mailmap_and_release_authors(checked: trust.Trust) -> None:
    assert checked.roster is not None
    assert [p.identity for p in checked.roster.people] == [ADA, GRACE, TESS, BOB]
    # the addresses of the roster and of the waivers, as .mailmap maps them (only those it maps)
    assert checked.mailmap == {
        "a.l@example.net": "ada@example.com",
        "grace@old.example.com": "grace@new.example.com",
    }
    # since the previous tag, folded: Tess's commit is before v1.0
    assert checked.authors == frozenset({"bob@example.com", "ada@example.com"})
    assert len(checked.report.checked) == 21
    bad = [(c.seq, c.why) for c in checked.report.bad]
    assert [seq for seq, _ in bad] == [len(REQUESTERS) + 19, len(REQUESTERS) + 20]
    assert all(why.startswith("ssh-keygen -Y verify refused it") for _, why in bad)


def test_without_a_roster_no_signature_is_good(ledger_: Ledger) -> None:
    first = git(ledger_.root, "rev-list", "--max-parents=0", "HEAD")
    found = trust.gather(ledger_.root, first, ledger_.records)
    assert found.roster is None
    assert found.mailmap == {"a.l@example.net": "ada@example.com"} | {
        "grace@old.example.com": "grace@new.example.com"
    }
    assert found.report.good_for(ledger_.seq["asked by bob"]) == ()
    approval = trust.approvals(found, ledger_.records)[ledger_.seq["asked by bob"]]
    assert approval.approver is None
    why, step = _unsigned("bob@example.com")
    assert approval.why.startswith(f"no sdl-roster.yaml at the evaluated commit, so {why}; ")
    assert approval.step == step


def test_identities_join_roster_mailmap_and_tags(checked: trust.Trust) -> None:
    ada = frozenset({"ada@example.com", "lovelace@example.org"})
    assert checked.identities("ada@example.com") == ada
    assert checked.identities(" ADA+release@Example.COM ") == ada
    assert checked.identities("Lovelace@Example.org") == ada
    assert checked.identities("A.L@Example.NET") == ada | {"a.l@example.net"}
    grace = checked.identities("grace@example.com")
    assert grace == {"grace@example.com", "grace@old.example.com", "grace@new.example.com"}
    assert checked.identities("bob@example.com") == {"bob@example.com"}


def test_fold() -> None:
    assert trust.fold(" Ada+X.Y@Example.COM\n") == "ada@example.com"
    assert trust.fold("ada@ex+ample.com") == "ada@ex+ample.com"
    assert trust.fold("a+b+c@x.org") == "a@x.org"


def _approvals(ledger_: Ledger, checked: trust.Trust) -> dict[str, Approval]:
    found = trust.approvals(checked, ledger_.records)
    assert set(found) == set(ledger_.seq.values())  # one verdict per waiver, no other entry
    # the order of the entries does not matter: signatures first, waivers after them
    signatures_first = sorted(ledger_.records, key=lambda r: r.statement.predicate.kind == "waiver")
    assert signatures_first[0].statement.predicate.kind != "waiver"
    assert trust.approvals(checked, signatures_first) == found
    return {name: found[seq] for name, seq in ledger_.seq.items()}


def test_the_requester_never_approves_under_any_of_her_identities(
    ledger_: Ledger, checked: trust.Trust
) -> None:
    found = _approvals(ledger_, checked)
    assert found["asked by ada"] == Approval(
        GRACE, f"{ADA} signed it but is the requester (ada@example.com)"
    )
    # every reason, in the order of the signatures
    assert found["asked by ada+tag, upper-case"] == Approval(
        None,
        f"{ADA} signed it but is the requester (ada+x@example.com); "
        f"{TESS} signed it but does not hold the approver role",
    )
    for name, requester in (
        ("asked by ada's mailmapped address", "a.l@example.net"),
        ("asked by ada's second roster address", "lovelace@example.org"),
    ):
        assert found[name] == Approval(None, f"{ADA} signed it but is the requester ({requester})")
    # Grace asked under the old address .mailmap moves to a new one: still Grace
    assert found["asked by grace's old address"] == Approval(
        None, f"{GRACE} signed it but is the requester (grace@old.example.com)"
    )


def test_the_first_good_approver_approves_after_the_reasons_of_the_others(
    ledger_: Ledger, checked: trust.Trust
) -> None:
    found = _approvals(ledger_, checked)
    assert found["asked by bob"] == Approval(
        ADA, f"{TESS} signed it but does not hold the approver role"
    )
    bad, _ = checked.report.bad
    assert found["asked by bob, forged approval"] == Approval(
        None, f"signature entry {bad.seq} is bad: {bad.why}"
    )
    # Bob signed this request, nobody approved it yet
    assert found["asked by bob, forged approval"].approver is None


def _unsigned(requester: str, step: str = "SVV-3") -> tuple[str, str]:
    return (
        f"the request is not signed by its requester ({requester}) with a key in "
        "sdl-roster.yaml, so nothing shows who asked for it",
        "the requester (listed with a key in sdl-roster.yaml) asks again, signing with their own "
        f"key: `sdl-tracker waive {step} --reason … --expires … --approver … --key KEY`",
    )


def test_a_request_its_requester_did_not_sign_is_never_approved(
    ledger_: Ledger, checked: trust.Trust
) -> None:
    """The forged requester: Grace, an approver, names Tess as the requester and approves the
    waiver with her own key. Before requests were signed, that counted as Tess's waiver approved
    by Grace; now nothing proves Tess asked, so it stays pending, saying what to do."""
    found = _approvals(ledger_, checked)
    assert found["claimed to be asked by tess"] == Approval(None, *_unsigned("tess@example.com"))
    assert found["asked by bob, unsigned"] == Approval(None, *_unsigned("bob@example.com"))
    # Bob's signature of another request, its payload swapped for this one: bad, and named
    _, bad = checked.report.bad
    why, step = _unsigned("bob@example.com")
    assert found["asked by bob, bad request signature"] == Approval(
        None, f"{why}; signature entry {bad.seq} is bad: {bad.why}", step
    )
    assert bad.target == ledger_.seq["asked by bob, bad request signature"]


@pytest.mark.parametrize("requester", ["Ada Lovelace", "ada@example.com", "", None])
def test_a_waiver_without_a_requesters_address_is_never_approved(
    ledger_: Ledger, checked: trust.Trust, requester: str | None
) -> None:
    """Nobody to tell the signer apart from (an entry not made by `waive`): fail closed, even
    though Ada, an approver who is not Bob, signed it."""
    (waiver,) = [r for r in ledger_.records if r.seq == ledger_.seq["asked by bob"]]
    details = {**waiver.statement.predicate.details, "requested_by": requester}
    anonymous = replace(
        waiver,
        statement=replace(
            waiver.statement, predicate=replace(waiver.statement.predicate, details=details)
        ),
    )
    others = [r for r in ledger_.records if r.seq != waiver.seq]
    found = trust.approvals(checked, [anonymous, *others])
    assert found[waiver.seq] == Approval(None, trust.NO_REQUESTER)
    # the waivers after it are judged as ever
    assert set(found) == set(ledger_.seq.values())
    assert found[ledger_.seq["asked by ada"]].approver == GRACE


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (
            {"approver": GRACE, "requested_by": "Bob <Bob@Example.com>"},
            ["grace@example.com", "bob@example.com"],
        ),
        ({"approver": "no address", "requested_by": ADA}, ["ada@example.com"]),
        ({"approver": GRACE}, ["grace@example.com"]),
        ({}, []),
        (["approver", GRACE], []),
        (None, []),
    ],
)
def test_emails_of_a_waiver(details: object, expected: list[str]) -> None:
    assert trust._emails(details) == expected


def test_a_request_signed_with_a_key_outside_its_roster_dates_is_not_a_request(
    ledger_: Ledger, checked: trust.Trust
) -> None:
    """Bob's key expired before he signed (NOW): his request signature is bad, named, and
    Ada's approval does not count; the same ledger with his key valid counts it."""
    from sdl_tracker.formats import roster as roster_mod

    text = (ledger_.root / "sdl-roster.yaml").read_text()
    public = (ledger_.root.parent / "keys" / "bob_ed25519.pub").read_text()
    key = " ".join(public.split()[:2])
    dated = text.replace(f'"{key}"', f'{{key: "{key}", expires: 2026-11-30}}', 1)
    roster = roster_mod.parse(dated)
    expired = replace(checked, report=trust.check(ledger_.records, roster), roster=roster)
    seq = ledger_.seq["asked by bob"]
    approval = trust.approvals(expired, ledger_.records)[seq]
    assert approval.approver is None
    why, step = _unsigned("bob@example.com")
    assert approval.why.startswith(f"{why}; signature entry ")
    assert "expired on 2026-11-30" in approval.why and approval.step == step
    assert trust.approvals(checked, ledger_.records)[seq].approver == ADA
