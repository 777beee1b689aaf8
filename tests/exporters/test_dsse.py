from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sdl_tracker.errors import InputError
from sdl_tracker.exporters import dsse
from sdl_tracker.exporters.verify_script import ed25519_verify, public_key


def test_pae_is_dsse_v1() -> None:
    assert dsse.pae("application/x", b"hello") == b"DSSEv1 13 application/x 5 hello"
    assert dsse.pae("t", b"") == b"DSSEv1 1 t 0 "


def test_a_signed_envelope_verifies_with_cryptography_and_with_verify_py(tmp_path: Path) -> None:
    private, public, keyid = dsse.generate()
    (tmp_path / "k").write_bytes(private)
    signer = dsse.load_signer(tmp_path / "k")
    assert signer.keyid == keyid and len(keyid) == 64
    envelope = json.loads(signer.sign(b'{"a":1}', dsse.IN_TOTO))
    assert envelope["payloadType"] == dsse.IN_TOTO
    assert base64.b64decode(envelope["payload"]) == b'{"a":1}'
    (sig,) = envelope["signatures"]
    assert sig["keyid"] == keyid
    raw = base64.b64decode(sig["sig"])
    signer.key.public_key().verify(raw, dsse.pae(dsse.IN_TOTO, b'{"a":1}'))
    with pytest.raises(InvalidSignature):
        signer.key.public_key().verify(raw, dsse.pae(dsse.MANIFEST, b'{"a":1}'))
    assert ed25519_verify(public_key(public), dsse.pae(dsse.IN_TOTO, b'{"a":1}'), raw)
    assert signer.sign(b"x", dsse.MANIFEST) == signer.sign(b"x", dsse.MANIFEST)  # deterministic


def test_keys_that_cannot_sign_are_refused_with_the_next_step(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the key .*sdl-tracker keygen"):
        dsse.load_signer(tmp_path / "missing")
    (tmp_path / "junk").write_text("not a key\n")
    with pytest.raises(InputError, match="not an unencrypted PEM private key"):
        dsse.load_signer(tmp_path / "junk")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "ec").write_bytes(pem)
    with pytest.raises(InputError, match="not an Ed25519 key"):
        dsse.load_signer(tmp_path / "ec")
    encrypted = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    (tmp_path / "enc").write_bytes(encrypted)
    with pytest.raises(InputError, match="not an unencrypted PEM private key"):
        dsse.load_signer(tmp_path / "enc")
