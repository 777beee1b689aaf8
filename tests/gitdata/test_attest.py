"""Signatures others can check: securesystemslib for keygen keys, ssh-keygen for SSH keys."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from identity import PEOPLE, roster_text, ssh_keys

from sdl_tracker.exporters import dsse
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.gitdata import attest

PAYLOAD = b'{"_type":"https://in-toto.io/Statement/v1","predicate":{"kind":"pentest_report"}}'


def keygen_key(tmp_path: Path) -> tuple[Path, bytes, str]:
    private, public, keyid = dsse.generate()
    path = tmp_path / "ci-key"
    path.write_bytes(private)
    return path, public, keyid


def test_a_keygen_envelope_verifies_with_securesystemslib_under_its_own_key_id(
    tmp_path: Path,
) -> None:
    sslib_dsse = pytest.importorskip("securesystemslib.dsse")
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import SSlibKey

    path, public, keyid = keygen_key(tmp_path)
    envelope = attest.sign(path, PAYLOAD)
    key = SSlibKey.from_crypto(serialization.load_pem_public_key(public))  # type: ignore[arg-type]
    assert envelope.keyid == keyid == key.keyid  # no override: securesystemslib's own id
    parsed = sslib_dsse.Envelope.from_dict(envelope.to_json())
    assert list(parsed.verify([key], 1)) == [key.keyid]
    altered = envelope.to_json() | {"payload": base64.b64encode(PAYLOAD + b" ").decode()}
    with pytest.raises(Exception, match="threshold|Verification|verif"):
        sslib_dsse.Envelope.from_dict(altered).verify([key], 1)


def test_a_keygen_key_in_the_roster_names_its_person(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    path, public, _ = keygen_key(tmp_path)
    pub = serialization.load_pem_public_key(public)
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    text = (
        "people:\n  - name: CI\n    emails: [ci@example.com]\n"
        f"    keys: ['ed25519:{base64.b64encode(raw).decode()}']\n    roles: [ci]\n"
    )
    roster = roster_mod.parse(text)
    envelope = attest.sign(path, PAYLOAD)
    person, why = attest.signer(envelope, roster)
    assert person is not None and person.roles == ("ci",), why
    forged = attest.Envelope(PAYLOAD + b"x", envelope.keyid, envelope.sig, envelope.method)
    person, why = attest.signer(forged, roster)
    assert person is None and "does not verify with CI's key" in why


def test_an_ssh_signed_attestation_verifies_with_ssh_keygen_and_the_roster_as_allowed_signers(
    tmp_path: Path,
) -> None:
    keys = ssh_keys(tmp_path / "keys")
    roster = roster_mod.parse(roster_text(keys))
    envelope = attest.sign(keys["tess"], PAYLOAD)
    assert envelope.method == "ssh" and envelope.keyid.startswith("ssh-ed25519 ")
    # What anyone can rerun with OpenSSH alone: the roster as an allowed-signers file.
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(roster.allowed_signers())
    sig = tmp_path / "attestation.sig"
    sig.write_bytes(base64.b64decode(envelope.sig))
    message = attest.pae(envelope.payload_type, envelope.payload)
    argv = ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", PEOPLE["tess"][1]]
    argv += ["-n", "sdl-tracker", "-s", str(sig)]
    done = subprocess.run(argv, input=message, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert b"Good" in done.stdout
    wrong = subprocess.run(
        [*argv[:6], PEOPLE["grace"][1], *argv[7:]], input=message, capture_output=True, check=False
    )
    assert wrong.returncode != 0  # Tess's key is not Grace's
    tampered = subprocess.run(argv, input=message + b" ", capture_output=True, check=False)
    assert tampered.returncode != 0
    person, _ = attest.signer(envelope, roster)
    assert person is not None and person.name == "Tess Tester"
