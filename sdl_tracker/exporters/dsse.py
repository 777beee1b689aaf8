"""DSSE envelopes signed with Ed25519 (via `cryptography`), and the key files `keygen` writes.

An envelope is `{"payload": <base64>, "payloadType": <type>, "signatures": [{"keyid", "sig"}]}`;
the signature covers the DSSE pre-authentication encoding
`DSSEv1 <len(type)> <type> <len(payload)> <payload>` (https://github.com/secure-systems-lab/dsse).
Ed25519 signatures are deterministic, so the same key and payload give the same envelope bytes.
The key id is the one securesystemslib computes for the key (`SSlibKey.from_crypto`): the
SHA-256, in hex, of the canonical JSON `{"keytype":"ed25519","keyval":{"public":<hex>},
"scheme":"ed25519"}` — so `Envelope.verify` finds the key without being told its id.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sdl_tracker.errors import InputError

IN_TOTO = "application/vnd.in-toto+json"
MANIFEST = "application/vnd.sdl-tracker.manifest+json"


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key and its key id."""

    key: Ed25519PrivateKey
    keyid: str

    def sign(self, payload: bytes, payload_type: str) -> bytes:
        """The DSSE envelope over `payload`, as JSON bytes (keys sorted, one line)."""
        sig = self.key.sign(pae(payload_type, payload))
        envelope = {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": payload_type,
            "signatures": [{"keyid": self.keyid, "sig": base64.b64encode(sig).decode()}],
        }
        return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def keyid(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw_keyid(raw)


def raw_keyid(raw: bytes) -> str:
    """securesystemslib's key id of a raw 32-byte Ed25519 public key."""
    key = {"keytype": "ed25519", "keyval": {"public": raw.hex()}, "scheme": "ed25519"}
    return hashlib.sha256(
        json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def load_signer(path: Path) -> Signer:
    """The PEM (PKCS#8, unencrypted) Ed25519 private key at `path`; InputError when it is not."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(
            f"--sign {path}: cannot read the key ({e.strerror}); make one with "
            "`sdl-tracker keygen --out signing-key`"
        ) from e
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise InputError(
            f"--sign {path}: not an unencrypted PEM private key ({e}); expected the Ed25519 "
            "key `sdl-tracker keygen` writes (PKCS#8 PEM)"
        ) from e
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(
            f"--sign {path}: not an Ed25519 key (found {type(key).__name__}); make one with "
            "`sdl-tracker keygen --out signing-key`"
        )
    return Signer(key=key, keyid=keyid(key.public_key()))


def generate() -> tuple[bytes, bytes, str]:
    """A new key pair: (private PEM PKCS#8, public PEM SubjectPublicKeyInfo, key id)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public, keyid(key.public_key())
