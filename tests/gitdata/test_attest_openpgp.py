"""OpenPGP-signed attestations: real gpg keys in a temporary GNUPGHOME, checked by the real gpg."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from identity import commit_roster, roster_text, ssh_keys

from sdl_tracker.cli.main import main
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.gitdata import attest

PAYLOAD = b'{"_type":"https://in-toto.io/Statement/v1","predicate":{"kind":"pentest_report"}}'
GPG = shutil.which("gpg")

pytestmark = pytest.mark.skipif(
    GPG is None and os.environ.get("CI") != "true", reason="gpg (GnuPG) is not installed"
)


@pytest.fixture
def gnupghome(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh keyring; short path, since gpg-agent's socket path is limited in length."""
    home = Path(tempfile.mkdtemp(prefix="gpg", dir="/tmp"))
    home.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    yield home
    subprocess.run(["gpgconf", "--kill", "all"], env={**os.environ}, check=False)
    shutil.rmtree(home, ignore_errors=True)


def new_key(uid: str) -> str:
    """Generate an Ed25519 signing key without passphrase; its primary fingerprint."""
    assert GPG is not None, "gpg is required under CI=true"
    argv = [GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run([*argv, "--quick-gen-key", uid, "ed25519", "sign", "never"], check=True)
    listing = subprocess.run(
        [GPG, "--batch", "--with-colons", "--list-keys", uid], capture_output=True, check=True
    ).stdout.decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def roster_with(fingerprint: str, roles: str = "independent-tester, tester") -> str:
    return (
        "people:\n  - name: Tess Tester\n    emails: [tess@example.com]\n"
        f"    keys: ['openpgp:{fingerprint}']\n    roles: [{roles}]\n"
    )


def test_an_openpgp_envelope_verifies_with_gpg_and_names_the_roster_person(
    gnupghome: Path, tmp_path: Path
) -> None:
    fpr = new_key("Tess Tester <tess@example.com>")
    envelope = attest.sign(Path(f"openpgp:{fpr}"), PAYLOAD)
    assert envelope.method == "openpgp" and envelope.keyid == f"openpgp:{fpr}"
    person, why = attest.signer(envelope, roster_mod.parse(roster_with(fpr)))
    assert person is not None and person.name == "Tess Tester", why
    # What anyone can rerun with GnuPG alone: the detached signature over the DSSE PAE.
    sig = tmp_path / "attestation.asc"
    sig.write_bytes(base64.b64decode(envelope.sig))
    message = attest.pae(envelope.payload_type, envelope.payload)
    done = subprocess.run(
        ["gpg", "--batch", "--status-fd", "1", "--verify", str(sig), "-"],
        input=message,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0 and f"VALIDSIG {fpr}".encode() in done.stdout


def test_forged_foreign_and_unknown_openpgp_signatures_do_not_verify(gnupghome: Path) -> None:
    tess = new_key("Tess Tester <tess@example.com>")
    mallory = new_key("Mallory <mallory@example.com>")
    roster = roster_mod.parse(roster_with(tess))
    good = attest.sign(Path(f"openpgp:{tess}"), PAYLOAD)
    altered = attest.Envelope(PAYLOAD + b" ", good.keyid, good.sig, good.method)
    person, why = attest.signer(altered, roster)
    assert person is None and "gpg --verify refused it" in why
    # Mallory's signature relabelled as Tess's: gpg names Mallory's key, not the claimed one.
    theirs = attest.sign(Path(f"openpgp:{mallory}"), PAYLOAD)
    relabelled = attest.Envelope(PAYLOAD, good.keyid, theirs.sig, theirs.method)
    person, why = attest.signer(relabelled, roster)
    assert person is None and f"by key {mallory}, not the claimed {tess}" in why
    person, why = attest.signer(theirs, roster)
    assert person is None and f"OpenPGP key {mallory} is not in the roster" in why
    # A verifier whose keyring lacks Tess's public key cannot check it, and says so.
    subprocess.run(["gpg", "--batch", "--yes", "--delete-secret-and-public-key", tess], check=True)
    person, why = attest.signer(good, roster)
    assert person is None and "is not in gpg's keyring" in why


def test_record_sign_with_an_openpgp_key_makes_a_signed_attestation(
    gnupghome: Path, git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fpr = new_key("Tess Tester <tess@example.com>")
    keys = ssh_keys(tmp_path / "keys", ["ada", "grace"])
    text = roster_text(keys) + roster_with(fpr).removeprefix("people:\n")
    commit_roster(git_repo, text)
    assert main(["init", "-C", str(git_repo)]) == 0
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 external pentest\n")
    argv = ["record", "pentest_report", str(report), "-r", "SVV-4", "-C", str(git_repo)]
    assert main([*argv, "--sign", "--key", f"openpgp:{fpr}"]) == 0
    capsys.readouterr()
    assert main(["explain", "SVV-4", "--format", "json", "-C", str(git_repo)]) == 0
    evidence = json.loads(capsys.readouterr().out)["requirement"]["evidence"]
    assert [e["provenance"] for e in evidence] == ["signed"]
    # git's own setting is the default key: user.signingkey with gpg.format openpgp.
    subprocess.run(["git", "-C", str(git_repo), "config", "user.signingkey", fpr], check=True)
    assert main([*argv, "--sign"]) == 0
    assert "signed: entry 4 holds your signature over entry 3" in capsys.readouterr().err
