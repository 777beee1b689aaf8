"""A person's signature over a ledger statement: a DSSE envelope, made and checked here.

The payload is the statement's canonical bytes (what the ledger stores), its type
`application/vnd.in-toto+json`; the signature covers the DSSE pre-authentication encoding. Two
kinds of key:
- SSH (the key people sign commits with, `gpg.format=ssh`): `ssh-keygen -Y sign -n sdl-tracker`;
  the envelope's `sig` is the base64 of the armored SSH signature and its `keyid` the public key
  (`ssh-ed25519 AAAA...`); checked with `ssh-keygen -Y verify` against the roster as an
  allowed-signers file — what anyone can rerun;
- Ed25519 keys from `sdl-tracker keygen`: the `sig` is the raw signature in base64, the `keyid`
  the one securesystemslib computes for the key, so that `Envelope.verify` checks it as is;
- OpenPGP keys (`gpg.format=openpgp`, `--key openpgp:FINGERPRINT`): `gpg --detach-sign --armor`;
  the `sig` is the base64 of the armored signature, the `keyid` `openpgp:` and the primary key's
  fingerprint; checked with `gpg --verify` (the public key in the verifier's keyring) and the
  fingerprint gpg reports matched against the roster.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdl_tracker.errors import InputError
from sdl_tracker.formats.roster import KeyValidity, Person, Roster
from sdl_tracker.models import JSON

PAYLOAD_TYPE = "application/vnd.in-toto+json"
NAMESPACE = "sdl-tracker"
SSH, ED25519, OPENPGP = "ssh", "ed25519", "openpgp"
_OPENPGP_PREFIX = "openpgp:"


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope with one signature."""

    payload: bytes
    keyid: str
    sig: str
    method: str
    """`ssh` or `ed25519`: how to check `sig`."""
    payload_type: str = PAYLOAD_TYPE

    def to_json(self) -> dict[str, JSON]:
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": self.keyid, "sig": self.sig}],
        }

    @classmethod
    def from_json(cls, data: object, method: object) -> Envelope | None:
        """The envelope (plain DSSE JSON) signed by `method`, or None when `data` is not one
        (a malformed envelope verifies nothing)."""
        if not isinstance(data, dict) or not isinstance(method, str):
            return None
        sigs = data.get("signatures")
        if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict):
            return None
        fields = (data.get("payload"), data.get("payloadType"))
        keyid, sig = sigs[0].get("keyid"), sigs[0].get("sig")
        if not all(isinstance(f, str) for f in (*fields, keyid, sig)):
            return None
        try:
            payload = base64.b64decode(str(data["payload"]), validate=True)
        except (binascii.Error, ValueError):
            return None
        return cls(payload, str(keyid), str(sig), method, str(data["payloadType"]))

    @property
    def digest(self) -> str:
        """SHA-256 of the payload: names the statement signed."""
        return hashlib.sha256(self.payload).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign(key: Path, payload: bytes) -> Envelope:
    """Sign with an SSH private key, a `sdl-tracker keygen` Ed25519 PEM key, or an OpenPGP key
    in gpg's keyring (`openpgp:FINGERPRINT`)."""
    if str(key).startswith(_OPENPGP_PREFIX):
        return _sign_openpgp(str(key).removeprefix(_OPENPGP_PREFIX), payload)
    try:
        head = key.read_bytes()[:64]
    except OSError as e:
        raise InputError(f"--key {key}: cannot read ({e.strerror})") from e
    if b"BEGIN PRIVATE KEY" in head:
        return _sign_ed25519(key, payload)
    return _sign_ssh(key, payload)


def signer_of(key: Path) -> Callable[[bytes], Envelope]:
    """`sign` with `key` bound: a `keygen` Ed25519 key is read and parsed once (many signatures
    from one process, e.g. a checkpoint per batch); SSH and OpenPGP keys sign per call."""
    if not str(key).startswith(_OPENPGP_PREFIX):
        try:
            head = key.read_bytes()[:64]
        except OSError as e:
            raise InputError(f"--key {key}: cannot read ({e.strerror})") from e
        if b"BEGIN PRIVATE KEY" in head:
            from sdl_tracker.exporters import dsse

            loaded = dsse.load_signer(key)

            def sign_ed25519(payload: bytes) -> Envelope:
                sig = loaded.key.sign(pae(PAYLOAD_TYPE, payload))
                return Envelope(payload, loaded.keyid, base64.b64encode(sig).decode(), ED25519)

            return sign_ed25519
    return lambda payload: sign(key, payload)


def _sign_ed25519(key: Path, payload: bytes) -> Envelope:
    from sdl_tracker.exporters import dsse

    signer = dsse.load_signer(key)
    sig = signer.key.sign(pae(PAYLOAD_TYPE, payload))
    return Envelope(payload, signer.keyid, base64.b64encode(sig).decode(), ED25519)


def _sign_ssh(key: Path, payload: bytes) -> Envelope:
    exe = _ssh_keygen()
    public = _run([exe, "-y", "-f", str(key)], b"", f"--key {key}")
    signature = _run(
        [exe, "-Y", "sign", "-n", NAMESPACE, "-f", str(key)],
        pae(PAYLOAD_TYPE, payload),
        f"--key {key}",
    )
    keyid = " ".join(public.decode().split()[:2])
    return Envelope(payload, keyid, base64.b64encode(signature).decode(), SSH)


def signer(envelope: Envelope, roster: Roster) -> tuple[Person | None, str]:
    """(the roster person whose key made a valid signature, '') or (None, why not)."""
    if envelope.payload_type != PAYLOAD_TYPE:
        return None, f"payload type {envelope.payload_type!r}, expected {PAYLOAD_TYPE!r}"
    if envelope.method == ED25519:
        return _verify_ed25519(envelope, roster)
    if envelope.method == SSH:
        return _verify_ssh(envelope, roster)
    if envelope.method == OPENPGP:
        return _verify_openpgp(envelope, roster)
    return None, f"unknown signing method {envelope.method!r}"


def key_validity(envelope: Envelope, roster: Roster) -> KeyValidity | None:
    """The validity dates the roster gives the key that made `envelope` (found by its key id,
    not verified: callers verify with `signer`), None when the key has none."""
    key = None
    if envelope.method == SSH:
        key = " ".join(envelope.keyid.split()[:2])
    elif envelope.method == OPENPGP:
        key = _OPENPGP_PREFIX + envelope.keyid.removeprefix(_OPENPGP_PREFIX).upper()
    elif envelope.method == ED25519:
        from sdl_tracker.exporters.dsse import raw_keyid

        raw = next(
            (
                k
                for p in roster.people
                for k in p.ed25519_keys
                if raw_keyid(base64.b64decode(k)) == envelope.keyid
            ),
            None,
        )
        key = f"ed25519:{raw}" if raw is not None else None
    if key is None:
        return None
    return next((v for p in roster.people if (v := p.validity_of(key)) is not None), None)


def outside_validity(
    envelope: Envelope, roster: Roster, when: datetime, latest: datetime | None = None
) -> str:
    """Why the roster's key of `envelope` was not valid at `when` (or between `when` and
    `latest`: `KeyValidity.outside`), naming the key and the roster line ('' when it was, or
    the key carries no dates)."""
    validity = key_validity(envelope, roster)
    if validity is None:
        return ""
    why = validity.outside(when, latest)
    if not why:
        return ""
    return f"the key {validity.label} ({roster.source} line {validity.line}) {why}"


def _verify_ed25519(envelope: Envelope, roster: Roster) -> tuple[Person | None, str]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from sdl_tracker.exporters.dsse import raw_keyid

    for person in roster.people:
        for raw_b64 in person.ed25519_keys:
            raw = base64.b64decode(raw_b64)
            if raw_keyid(raw) != envelope.keyid:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(raw).verify(
                    base64.b64decode(envelope.sig), pae(envelope.payload_type, envelope.payload)
                )
            except (InvalidSignature, binascii.Error, ValueError):
                return None, f"the signature does not verify with {person.name}'s key"
            return person, ""
    return None, f"key {envelope.keyid[:16]}… is not in the roster"


def _verify_ssh(envelope: Envelope, roster: Roster) -> tuple[Person | None, str]:
    person = roster.by_ssh_key(envelope.keyid)
    if person is None:
        return None, f"SSH key {envelope.keyid[:40]}… is not in the roster"
    try:
        signature = base64.b64decode(envelope.sig, validate=True)
    except (binascii.Error, ValueError):
        return None, "the SSH signature is not base64"
    with tempfile.TemporaryDirectory(prefix="sdl-verify-") as tmp:
        allowed, sig = Path(tmp) / "allowed_signers", Path(tmp) / "payload.sig"
        allowed.write_text(roster.allowed_signers(), encoding="utf-8")
        sig.write_bytes(signature)
        argv = [_ssh_keygen(), "-Y", "verify", "-f", str(allowed), "-I", person.emails[0]]
        argv += ["-n", NAMESPACE, "-s", str(sig)]
        done = subprocess.run(
            argv,
            input=pae(envelope.payload_type, envelope.payload),
            capture_output=True,
            check=False,
        )
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return None, f"ssh-keygen -Y verify refused it ({why[-1] if why else 'no reason'})"
    return person, ""


def _program(name: str, needed: str) -> str:
    """The path of the signing program `name`, or InputError saying what `needed` it."""
    exe = shutil.which(name)
    if exe is None:
        raise InputError(f"{name} is not installed: {needed}")
    return exe


def _call(argv: list[str], stdin: bytes, what: str, fix: str) -> bytes:
    """stdout of a signing program, or InputError with its reason and `fix`."""
    done = subprocess.run(argv, input=stdin, capture_output=True, check=False)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        raise InputError(f"{what}: {Path(argv[0]).name} failed ({why}); {fix}")
    return done.stdout


def _ssh_keygen() -> str:
    return _program("ssh-keygen", "SSH signatures need OpenSSH's ssh-keygen")


def _run(argv: list[str], stdin: bytes, what: str) -> bytes:
    return _call(argv, stdin, what, "give an unencrypted SSH key")


def _sign_openpgp(user: str, payload: bytes) -> Envelope:
    exe = _gpg()
    what = f"--key openpgp:{user}"
    listing = _run_gpg([exe, "--batch", "--with-colons", "--list-secret-keys", user], b"", what)
    fingerprint = next(
        (line.split(":")[9] for line in listing.decode().splitlines() if line.startswith("fpr:")),
        "",
    )
    if not fingerprint:
        raise InputError(f"{what}: gpg lists no secret key for it; check `gpg -K`")
    argv = [exe, "--batch", "--pinentry-mode", "loopback", "--local-user", fingerprint]
    argv += ["--detach-sign", "--armor", "--output", "-"]
    signature = _run_gpg(argv, pae(PAYLOAD_TYPE, payload), what)
    keyid = _OPENPGP_PREFIX + fingerprint.upper()
    return Envelope(payload, keyid, base64.b64encode(signature).decode(), OPENPGP)


def _verify_openpgp(envelope: Envelope, roster: Roster) -> tuple[Person | None, str]:
    claimed = envelope.keyid.removeprefix(_OPENPGP_PREFIX).upper()
    person = next((p for p in roster.people if claimed in p.openpgp), None)
    if person is None:
        return None, f"OpenPGP key {claimed} is not in the roster"
    try:
        signature = base64.b64decode(envelope.sig, validate=True)
    except (binascii.Error, ValueError):
        return None, "the OpenPGP signature is not base64"
    with tempfile.TemporaryDirectory(prefix="sdl-verify-") as tmp:
        sig = Path(tmp) / "payload.asc"
        sig.write_bytes(signature)
        exe = shutil.which("gpg")
        if exe is None:
            return None, "gpg is not installed here: OpenPGP signatures need GnuPG's gpg"
        done = subprocess.run(
            [exe, "--batch", "--status-fd", "1", "--verify", str(sig), "-"],
            input=pae(envelope.payload_type, envelope.payload),
            capture_output=True,
            check=False,
        )
    status = done.stdout.decode(errors="replace").splitlines()
    valid = [line.split() for line in status if line.startswith("[GNUPG:] VALIDSIG ")]
    if done.returncode != 0 or not valid:
        if any(line.startswith("[GNUPG:] NO_PUBKEY") for line in status):
            return None, (
                f"{person.name}'s OpenPGP public key {claimed} is not in gpg's keyring "
                "(import it: `gpg --import`)"
            )
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return None, f"gpg --verify refused it ({why[-1] if why else 'no reason'})"
    primary = valid[0][-1].upper()
    if primary != claimed:
        return None, f"gpg verified a signature by key {primary}, not the claimed {claimed}"
    return person, ""


def _gpg() -> str:
    return _program("gpg", "OpenPGP signatures need GnuPG's gpg")


def _run_gpg(argv: list[str], stdin: bytes, what: str) -> bytes:
    return _call(argv, stdin, what, "give a key in gpg's keyring, unlocked")
