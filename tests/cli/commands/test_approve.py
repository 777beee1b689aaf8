"""Waivers count only with an approver's signature: real ssh-keygen keys, a real roster."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker import ledger
from sdl_tracker.cli.commands import record as record_cmd
from sdl_tracker.cli.main import main
from sdl_tracker.conformance import waivers
from sdl_tracker.ledger.chain import canonical
from sdl_tracker.workspace import open_workspace

SOON = (datetime.now(timezone.utc) + timedelta(days=30)).date().isoformat()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    return ssh_keys(tmp_path / "keys")


@pytest.fixture
def repo(git_repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> Path:
    commit_roster(git_repo, roster_text(keys))
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    argv = ["waive", "SVV-3", "--reason", "OSV mirror down", "--expires", SOON]
    argv += ["--approver", "Grace Hopper <grace@example.com>", "--key", str(keys["ada"])]
    assert run([*argv, "-C", str(git_repo)], capsys)[0] == 0
    return git_repo


def svv3(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    code, out, _ = run(["explain", "SVV-3", "--format", "json", "-C", str(repo)], capsys)
    assert code == 0
    return json.loads(out)["requirement"]  # type: ignore[no-any-return]


def test_a_waiver_is_pending_until_the_approver_signs_it(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = svv3(repo, capsys)
    assert before["status"] == "missing"
    assert before["waiver"]["state"] == "pending"
    assert "no approval signature" in before["reason"]
    code, _, err = run(["approve", "1", "--key", str(keys["grace"]), "-C", str(repo)], capsys)
    assert code == 0, err
    assert "Grace Hopper <grace@example.com> approves the waiver in entry 1" in err
    after = svv3(repo, capsys)
    assert after["status"] == "waived"
    assert after["waiver"]["approved_by"] == "Grace Hopper <grace@example.com>"
    code, _, err = run(["status", "-C", str(repo)], capsys)
    assert "active   until" in err and "approved by Grace Hopper" in err


def test_the_requester_cannot_approve_under_an_alias(
    git_repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Ada holds the approver role and a second address; she asks as ada+x@ and signs herself.
    text = roster_text(keys, emails={"ada": ["lovelace@example.org"]})
    commit_roster(git_repo, text)
    (git_repo / ".mailmap").write_text("Ada Lovelace <ada@example.com> <a.l@example.net>\n")
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    for alias in ("ada+x@example.com", "a.l@example.net", "lovelace@example.org"):
        git(git_repo, "config", "user.email", alias)
        argv = ["waive", "SVV-3", "--reason", "r", "--expires", SOON, "--approver", "G <g@x.org>"]
        assert run([*argv, "--key", str(keys["ada"]), "-C", str(git_repo)], capsys)[0] == 0
    git(git_repo, "config", "user.email", "ada@example.com")
    for seq in ("1", "3", "5"):
        argv = ["approve", seq, "--key", str(keys["ada"]), "-C", str(git_repo)]
        code, _, err = run(argv, capsys)
        assert code == 2 and "a waiver needs another person's approval" in err
    # Approvals appended by hand (not through `approve`) do not count either.
    store = open_workspace(git_repo).store()
    waivers = [e.statement() for e in ledger.entries(store)][::2]
    ledger.append(
        store,
        [record_cmd._signature(w, keys["ada"], "Ada Lovelace <ada@example.com>") for w in waivers],
    )
    assert svv3(git_repo, capsys)["status"] == "missing"
    found = json.loads(_status(git_repo, capsys))["waivers"]
    assert [w["state"] for w in found] == ["pending"] * 3
    for w in found:
        assert "Ada Lovelace <ada@example.com> signed it but is the requester" in w["pending"]


def test_an_approval_by_someone_without_the_approver_role_stays_pending(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["approve", "1", "--key", str(keys["tess"]), "-C", str(repo)], capsys)
    assert code == 0 and "does not hold the approver role" in err
    found = svv3(repo, capsys)
    assert found["status"] == "missing" and found["waiver"]["state"] == "pending"
    assert (
        "Tess Tester <tess@example.com> signed it but does not hold the approver role"
        in (found["reason"])
    )


def test_a_key_outside_the_roster_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (stranger,) = ssh_keys(tmp_path / "other", ["ada"]).values()
    code, _, err = run(["approve", "1", "--key", str(stranger), "-C", str(repo)], capsys)
    assert code == 2 and "is not in the roster" in err


def test_an_approval_moved_onto_an_altered_waiver_is_bad(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Grace signed the 30-day waiver; her envelope, its payload swapped for a longer waiver
    asked later, names that waiver but no longer verifies: a bad signature, still pending."""
    later = (datetime.now(timezone.utc) + timedelta(days=80)).date().isoformat()
    argv = ["waive", "SVV-3", "--reason", "OSV mirror down", "--expires", later]
    argv += ["--approver", "Grace <grace@example.com>", "--key", str(keys["ada"])]
    assert run([*argv, "-C", str(repo)], capsys)[0] == 0
    store = open_workspace(repo).store()
    first, _, second, _ = (e.statement() for e in ledger.entries(store))
    good = record_cmd._signature(first, keys["grace"], "Grace Hopper <grace@example.com>")
    envelope = dict(good.predicate.details["envelope"])  # type: ignore[arg-type]
    envelope["payload"] = base64.b64encode(canonical(second)).decode()
    forged = replace(
        good,
        predicate=replace(good.predicate, details={**good.predicate.details, "envelope": envelope}),
    )
    ledger.append(store, [forged])
    found = svv3(repo, capsys)
    assert found["status"] == "missing"
    assert [w["state"] for w in json.loads(_status(repo, capsys))["waivers"]] == [
        "pending",
        "pending",
    ]
    assert "signature entry 5 is bad: ssh-keygen -Y verify refused it" in found["reason"]


def _status(repo: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run(["status", "--format", "json", "-C", str(repo)], capsys)
    assert code == 0
    return out


def test_the_requester_cannot_approve_through_a_mailmap_joining_two_roster_entries(
    git_repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The roster gives Ada a second address, and .mailmap says that address is Grace's: the
    roster and the mailmap join Ada and Grace into one identity, so Grace's signature does not
    approve Ada's waiver (fail closed), whichever of the two files is read first."""
    text = roster_text(keys, emails={"ada": ["lovelace@example.org"]}, roles={"ada": ["developer"]})
    commit_roster(git_repo, text)
    (git_repo / ".mailmap").write_text("Grace Hopper <grace@example.com> <lovelace@example.org>\n")
    git(git_repo, "add", ".mailmap")
    git(git_repo, "commit", "-q", "-m", "mailmap")
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    argv = ["waive", "SVV-3", "--reason", "r", "--expires", SOON, "--approver", "G <g@x.org>"]
    assert run([*argv, "--key", str(keys["ada"]), "-C", str(git_repo)], capsys)[0] == 0
    code, _, err = run(["approve", "1", "--key", str(keys["grace"]), "-C", str(git_repo)], capsys)
    assert code == 2 and "a waiver needs another person's approval" in err
    store = open_workspace(git_repo).store()
    waiver, _ = [e.statement() for e in ledger.entries(store)]
    signed = record_cmd._signature(waiver, keys["grace"], "Grace Hopper <grace@example.com>")
    ledger.append(store, [signed])
    assert svv3(git_repo, capsys)["status"] == "missing"
    (found,) = json.loads(_status(git_repo, capsys))["waivers"]
    assert found["state"] == "pending"
    assert "Grace Hopper <grace@example.com> signed it but is the requester" in found["pending"]


def test_without_a_roster_a_signed_waiver_stays_pending_and_says_why(
    git_repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    argv = ["waive", "SVV-3", "--reason", "r", "--expires", SOON]
    argv += ["--approver", "Grace Hopper <grace@example.com>", "-C", str(git_repo)]
    assert run(argv, capsys)[0] == 0
    store = open_workspace(git_repo).store()
    (waiver,) = [e.statement() for e in ledger.entries(store)]
    signed = record_cmd._signature(waiver, keys["grace"], "Grace Hopper <grace@example.com>")
    ledger.append(store, [signed])
    (found,) = json.loads(_status(git_repo, capsys))["waivers"]
    assert found["state"] == "pending"
    assert "sdl-roster.yaml" in found["pending"]


def test_a_forged_requester_does_not_make_a_self_approval_count(
    git_repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Grace, an approver, asks for a waiver as Ada (`git -c user.email=ada@…`) and approves it
    herself. `waive` signs with Grace's key, so the request is Grace's and her approval is
    refused; a request written by hand in Ada's name, without Ada's signature, never counts."""
    commit_roster(git_repo, roster_text(keys))
    assert run(["init", "-C", str(git_repo)], capsys)[0] == 0
    argv = ["waive", "SVV-3", "--reason", "r", "--expires", SOON, "-C", str(git_repo)]
    argv += ["--approver", "Tess Tester <tess@example.com>"]
    code, _, err = run(argv, capsys)  # no key given, none configured in git
    assert code == 2 and "no signing key: give --key FILE" in err
    assert "sdl-roster.yaml is committed, so a waiver request is signed by its requester" in err
    argv += ["--key", str(keys["grace"])]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert "signed by Grace Hopper <grace@example.com> (entry 2)" in err
    store = open_workspace(git_repo).store()
    request, signature = (e.statement().predicate for e in ledger.entries(store))
    assert request.details["requested_by"] == "Grace Hopper <grace@example.com>"
    assert (signature.kind, signature.collector) == ("signature", "waive")
    code, _, err = run(["approve", "1", "--key", str(keys["grace"]), "-C", str(git_repo)], capsys)
    assert code == 2 and "a waiver needs another person's approval" in err
    # `waive` refuses a named approver who owns the key, whatever git's identity says
    argv[argv.index("Tess Tester <tess@example.com>")] = "Grace <grace@example.com>"
    code, _, err = run(argv, capsys)
    assert code == 2 and "is you (Grace Hopper <grace@example.com>" in err
    # by hand: a request in Ada's name, approved with Grace's key (counted before requests
    # were signed)
    forged = waivers.statement(
        target="SVV-3",
        reason="forged",
        approver="Grace Hopper <grace@example.com>",
        requested_by="Ada Lovelace <ada@example.com>",
        expires=datetime.now(timezone.utc) + timedelta(days=20),
        commit=None,
        now=datetime.now(timezone.utc),
    )
    approval = record_cmd._signature(forged, keys["grace"], "Grace Hopper <grace@example.com>")
    ledger.append(store, [forged, approval])
    found = json.loads(_status(git_repo, capsys))["waivers"]
    assert [w["state"] for w in found] == ["pending", "pending"]
    assert found[1]["pending"].startswith(
        "pending approval: the request is not signed by its requester (ada@example.com) with a "
        "key in sdl-roster.yaml"
    )
    assert "asks again, signing with their own key: `sdl-tracker waive SVV-3" in found[1]["pending"]
    assert svv3(git_repo, capsys)["status"] == "missing"
    code, _, err = run(["approve", "3", "--key", str(keys["grace"]), "-C", str(git_repo)], capsys)
    assert code == 2 and "entry 3: the request is not signed by its requester" in err


def test_a_request_signed_by_its_requester_is_approved_by_another_approver(
    repo: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Tess (no approver role, listed with her key) asks; Ada, an approver, approves."""
    git(repo, "config", "user.email", "tess@example.com")
    argv = ["waive", "SVV-4", "--reason", "pentest booked", "--expires", SOON, "-C", str(repo)]
    argv += ["--approver", "Ada <ada@example.com>", "--key", str(keys["tess"])]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert "signed by Tess Tester <tess@example.com> (entry 4)" in err
    code, _, err = run(["approve", "3", "--key", str(keys["ada"]), "-C", str(repo)], capsys)
    assert code == 0, err
    code, out, _ = run(["explain", "SVV-4", "--format", "json", "-C", str(repo)], capsys)
    found = json.loads(out)["requirement"]
    assert found["status"] == "waived"
    assert found["waiver"]["approved_by"] == "Ada Lovelace <ada@example.com>"
