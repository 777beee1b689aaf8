"""verify.py: check an sdl-tracker evidence package with nothing but the Python standard library.

    python -I verify.py evidence-v1.4.0.zip [--public-key signing-key.pub]
                                            [--allowed-signers allowed_signers]
                                            [--roster roster.json]
    python -I verify.py                      # inside the unpacked package: checks its directory

Checks, and names the file and the reason for every problem found:
1. MANIFEST.json is intact and lists every file with its SHA-256 and size; no file is missing,
   altered or unlisted;
2. ledger/entries.jsonl is an unbroken hash chain from the first entry (each entry's hash is the
   SHA-256 of `{` + its stored bytes after the hash; each links to the one before; sequence
   numbers count from 1), every artifact an entry names is in artifacts/ with that digest, and
   the chain ends where MANIFEST.json and conformance.json say;
3. every statements/<seq>.intoto.json is byte for byte the statement of ledger entry <seq>;
4. with --public-key (the PEM file `sdl-tracker keygen` wrote): the DSSE Ed25519 signatures over
   MANIFEST.json and every statement (RFC 8032 verification, in pure Python below);
5. every checkpoint entry signs the entry just before it and names a batch ending there; the
   report says which entries the checkpoints cover and lists the tool evidence none covers
   (the gate does not count it once the roster names a CI key). A checkpoint's signature is
   checked when --public-key is the CI key (a `keygen` key); SSH-signed ones as in 6;
6. every SSH signature (people's signature entries: attestations, waiver and policy approvals;
   checkpoints) is a valid SSHSIG (namespace `sdl-tracker`; ssh-ed25519, or ssh-rsa with
   rsa-sha2-256/512) over the DSSE encoding of what it signs. Against WHOSE key: with
   --allowed-signers (OpenSSH's format, keys the auditor got from the supplier by another
   channel) the key must be listed there, for the signing time and namespace, and roster.json
   (the supplier's roster at the release) must give it to a person the line names; without it,
   a signature verifies only against the key the package itself names, which proves nothing
   about who signed (a forger makes a key and signs). Roles from roster.json (or the
   auditor's own copy, --roster, since the package's could be forged too): checkpoints by a
   `ci` holder; every waiver conformance.json counts signed by its requester and approved by
   an `approver` who is not the requester; counted policy tailoring by a
   `product-security-lead`. Other key types (ECDSA, security keys, OpenPGP, a person's `keygen`
   key) are listed as NOT CHECKED here, per entry.
Exit 0 when everything holds, 1 otherwise; 2 for a bad command line (an unreadable key or
allowed-signers file, naming its line).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

MANIFEST, MANIFEST_SIG, LEDGER = "MANIFEST.json", "MANIFEST.json.dsse", "ledger/entries.jsonl"
ROSTER = "roster.json"
_SIGNATURE_MARK = b'"kind":"signature"'
IN_TOTO = "application/vnd.in-toto+json"
MANIFEST_TYPE = "application/vnd.sdl-tracker.manifest+json"
_SPKI = bytes.fromhex("302a300506032b6570032100")  # DER prefix of an Ed25519 public key
_STATEMENT = b',"statement":'
_BEGIN, _END = "-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----"

# Ed25519 verification (RFC 8032 section 5.1.7), extended twisted Edwards coordinates.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
Point = tuple[int, int, int, int]


def _add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa, bb = (y1 - x1) * (y2 - x2) % _P, (y1 + x1) * (y2 + x2) % _P
    cc, dd = 2 * t1 * t2 * _D % _P, 2 * z1 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _mul(s: int, point: Point) -> Point:
    result: Point = (0, 1, 1, 0)
    while s:
        if s & 1:
            result = _add(result, point)
        point = _add(point, point)
        s >>= 1
    return result


def _same(a: Point, b: Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _decompress(data: bytes) -> Point | None:
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y, 1, x * y % _P


_BASE = _decompress((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is a valid Ed25519 signature of `message` by `public` (32 bytes)."""
    if len(public) != 32 or len(signature) != 64 or _BASE is None:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _same(_mul(s, _BASE), _add(r, _mul(h, a)))


def public_key(pem: bytes) -> bytes:
    """The raw 32-byte key of a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) holding an Ed25519 key."""
    lines = pem.decode("ascii", "replace").strip().splitlines()
    if len(lines) < 3 or (lines[0], lines[-1]) != (_BEGIN, _END):
        raise ValueError("not a PEM public key (-----BEGIN PUBLIC KEY-----)")
    der = base64.b64decode("".join(lines[1:-1]), validate=True)
    if len(der) != 44 or not der.startswith(_SPKI):
        raise ValueError("not an Ed25519 public key")
    return der[len(_SPKI) :]


# SSH signatures: OpenSSH's SSHSIG format (PROTOCOL.sshsig), checked here without ssh-keygen.
SSH_NAMESPACE = "sdl-tracker"
_SSHSIG_ARMOR = ("-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----")
_SSHSIG_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
# PKCS#1 v1.5 DigestInfo prefixes (RFC 8017 section 9.2, note 1) of the SHA-2 RSA signatures.
_RSA_SIGS = {
    "rsa-sha2-256": (hashlib.sha256, bytes.fromhex("3031300d060960864801650304020105000420")),
    "rsa-sha2-512": (hashlib.sha512, bytes.fromhex("3051300d060960864801650304020305000440")),
}
#: The SSH key types whose signatures verify.py checks itself.
SSH_CHECKED = ("ssh-ed25519", "ssh-rsa")
_SSH_KEY_PREFIXES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")


class _Reader:
    """SSH wire encoding (RFC 4251 section 5): uint32, string, mpint."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise ValueError("truncated")
        self.at += size
        return self.data[self.at - size : self.at]

    def string(self) -> bytes:
        return self.take(int.from_bytes(self.take(4), "big"))

    def mpint(self) -> int:
        raw = self.string()
        if raw[:1] and raw[0] & 0x80:
            raise ValueError("negative integer")
        return int.from_bytes(raw, "big")

    def end(self) -> None:
        if self.at != len(self.data):
            raise ValueError("trailing bytes")


def _wire(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


class SshSignature:
    """An armored SSHSIG signature, parsed: the signer's public key blob and what it signed."""

    def __init__(self, armored: bytes) -> None:
        lines = armored.decode("ascii").strip().splitlines()
        if len(lines) < 3 or (lines[0].strip(), lines[-1].strip()) != _SSHSIG_ARMOR:
            raise ValueError("not an armored SSH signature")
        blob = _Reader(base64.b64decode("".join(x.strip() for x in lines[1:-1]), validate=True))
        if blob.take(6) != b"SSHSIG" or int.from_bytes(blob.take(4), "big") > 1:
            raise ValueError("not an SSHSIG blob of version 1 or before")
        self.key, namespace, _, hash_alg, signature = (blob.string() for _ in range(5))
        blob.end()
        self.namespace, self.hash_alg = namespace.decode(), hash_alg.decode()
        sig = _Reader(signature)
        self.sig_type, self.sig = sig.string().decode(), sig.string()
        sig.end()
        key = _Reader(self.key)
        self.key_type = key.string().decode()
        self.public, self.rsa = b"", (0, 0)  # the key's numbers: Ed25519's 32 bytes, RSA's e, n
        if self.key_type == "ssh-ed25519":
            self.public = key.string()
            key.end()
        elif self.key_type == "ssh-rsa":
            self.rsa = (key.mpint(), key.mpint())
            key.end()

    def verify(self, message: bytes, namespace: str = SSH_NAMESPACE) -> str:
        """'' when this is a valid signature of `message` in `namespace` by its own key,
        else why not (ssh-keygen -Y verify's rules)."""
        if self.namespace != namespace:
            return f"signed for namespace {self.namespace!r}, not {namespace!r}"
        hashing = _SSHSIG_HASHES.get(self.hash_alg)
        if hashing is None:
            return f"unknown hash algorithm {self.hash_alg!r}"
        signed = b"SSHSIG" + _wire(namespace.encode()) + _wire(b"")
        signed += _wire(self.hash_alg.encode()) + _wire(hashing(message).digest())
        if self.key_type == "ssh-ed25519":
            good = self.sig_type == "ssh-ed25519" and ed25519_verify(self.public, signed, self.sig)
            return "" if good else "the Ed25519 signature does not verify"
        if self.key_type == "ssh-rsa":
            return _rsa_verify(*self.rsa, self.sig_type, signed, self.sig)
        return f"{self.key_type} signatures are not checked here"


def _rsa_verify(e: int, n: int, sig_type: str, signed: bytes, sig: bytes) -> str:
    """RSASSA-PKCS1-v1_5 (RFC 8017 section 8.2.2) with SHA-256 or SHA-512, as OpenSSH signs."""
    if e < 3 or e % 2 == 0:
        return "the RSA key's public exponent is not valid"
    scheme = _RSA_SIGS.get(sig_type)
    if scheme is None:
        return f"RSA signature type {sig_type!r} (SSH signatures need rsa-sha2-256 or -512)"
    size = (n.bit_length() + 7) // 8
    if not 1024 <= n.bit_length() <= 16384 or len(sig) > size:
        return "the RSA key is not 1024 to 16384 bits long, or the signature longer than the key"
    s = int.from_bytes(sig, "big")
    digest = scheme[1] + scheme[0](signed).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    good = s < n and pow(s, e, n).to_bytes(size, "big") == expected
    return "" if good else "the RSA signature does not verify"


def ssh_key_text(blob: bytes) -> str:
    """`<type> <base64>`: a public key blob as authorized_keys and allowed-signers write it."""
    try:
        kind = _Reader(blob).string().decode("ascii", "replace")
    except ValueError:
        kind = "unknown"
    return f"{kind} {base64.b64encode(blob).decode()}"


def _short(key: str) -> str:
    return key if len(key) <= 40 else key[:40] + "…"


def match_patterns(name: str, patterns: str) -> bool:
    """OpenSSH's match_pattern_list: comma-separated `*`/`?` patterns, `!` negates (and wins)."""
    found = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        regex = re.escape(pattern[negated:]).replace(r"\*", ".*").replace(r"\?", ".")
        if re.fullmatch(regex, name, re.DOTALL):
            if negated:
                return False
            found = True
    return found


class AllowedSigner:
    """One line of an OpenSSH allowed_signers file (ssh-keygen(1), ALLOWED SIGNERS)."""

    def __init__(self, line: str, where: str) -> None:
        self.where, self.cert_authority = where, False
        self.namespaces: str | None = None
        self.valid_after: datetime | None = None
        self.valid_before: datetime | None = None
        self.principals, rest = _field(line.strip())
        first = rest.split(None, 1)[0] if rest.split() else ""
        if not first.startswith(_SSH_KEY_PREFIXES):
            options, rest = _field(rest)
            for option in _split_options(options):
                self._option(option)
        parts = rest.split()
        if len(parts) < 2 or not parts[0].startswith(_SSH_KEY_PREFIXES):
            raise ValueError("expected principals, options (optional), key type, base64 key")
        try:
            self.key = base64.b64decode(parts[1], validate=True)
            if _Reader(self.key).string().decode() != parts[0]:
                raise ValueError(parts[0])
        except (binascii.Error, ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"the key is not a valid {parts[0]} public key") from e

    def _option(self, option: str) -> None:
        name, _, value = option.partition("=")
        name = name.lower()
        if name == "cert-authority" and not value:
            self.cert_authority = True
            return
        if len(value) < 2 or value[0] != '"' or value[-1] != '"':
            raise ValueError(f"unknown or unquoted option {option!r}")
        if name == "namespaces":
            self.namespaces = value[1:-1]
        elif name in ("valid-after", "valid-before"):
            setattr(self, name.replace("-", "_"), _ssh_time(value[1:-1]))
        else:
            raise ValueError(f"unknown option {option!r}")

    def refuses(self, earliest: datetime, latest: datetime) -> str:
        """Why this line does not allow an sdl-tracker signature made between the two times."""
        if self.cert_authority:
            return f"{self.where} is a cert-authority line (certificates are not checked here)"
        if self.namespaces is not None and not match_patterns(SSH_NAMESPACE, self.namespaces):
            return f'{self.where} does not allow the namespace "{SSH_NAMESPACE}"'
        if self.valid_after is not None and earliest < self.valid_after:
            return f"{self.where} makes the key valid only after {self.valid_after.isoformat()}"
        if self.valid_before is not None and latest > self.valid_before:
            return f"{self.where} makes the key valid only before {self.valid_before.isoformat()}"
        return ""


def _field(text: str) -> tuple[str, str]:
    """The first field of `text` (double quotes group spaces) and the rest."""
    quoted, at = False, 0
    while at < len(text) and (quoted or not text[at].isspace()):
        quoted ^= text[at] == '"'
        at += 1
    head = text[:at]
    if head.startswith('"') and head.endswith('"') and len(head) > 1:
        head = head[1:-1]
    return head, text[at:].lstrip()


def _split_options(text: str) -> list[str]:
    options, quoted, start = [], False, 0
    for at, char in enumerate(text + ","):
        quoted ^= char == '"'
        if char == "," and not quoted:
            options.append(text[start:at])
            start = at + 1
    return options


def _ssh_time(text: str) -> datetime:
    """YYYYMMDD[HHMM[SS]] with an optional Z (UTC; local time without it), as ssh-keygen reads."""
    utc = text.endswith("Z")
    digits = text[:-1] if utc else text
    if not digits.isdigit() or len(digits) not in (8, 12, 14):
        raise ValueError(f"time {text!r} is not YYYYMMDD[HHMM[SS]][Z]")
    when = datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")
    return when.replace(tzinfo=timezone.utc) if utc else when.astimezone()


def read_allowed_signers(text: str, source: str) -> list[AllowedSigner]:
    """Every entry of an allowed_signers file; ValueError naming the line of a bad one."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.strip().startswith("#"):
            where = f"{source} line {number}"
            try:
                found.append(AllowedSigner(line, where))
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from e
    return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


class Checker:
    """Runs every check over the package's files, collecting `file: reason` problems."""

    def __init__(
        self,
        files: dict[str, bytes],
        key: bytes | None,
        allowed: list[AllowedSigner] | None = None,
        roster: tuple[str, bytes] | None = None,
    ) -> None:
        self.files, self.key, self.allowed = files, key, allowed
        #: where people's roles and keys' dates come from: the package's roster.json, or the
        #: auditor's own copy (`--roster`, read under its own name)
        self.roster_name, self.roster_data = roster or (ROSTER, files.get(ROSTER))
        self.unchecked: list[str] = []
        self.unchecked_over: set[int] = set()
        self.by_bytes: dict[bytes, list[int]] = {}
        #: seq of each SSH signature checked here → (the seq it signs, 0 for a checkpoint;
        #: who; their roles per roster.json, None without one; their e-mails)
        self.signed: dict[int, tuple[int, str, tuple[str, ...] | None, tuple[str, ...]]] = {}
        self.problems: list[str] = []
        self.passed: list[str] = []
        self.statements: dict[int, bytes] = {}
        self.hashes: dict[int, str] = {0: "0" * 64}
        self.last: tuple[int, str] = (0, "0" * 64)

    def fail(self, name: str, reason: str) -> None:
        self.problems.append(f"{name}: {reason}")

    def ok(self, before: int, line: str) -> None:
        """Report `line` as passed when no problem was found since `before` problems."""
        if len(self.problems) == before:
            self.passed.append(line)

    def json(self, name: str) -> object:
        try:
            return json.loads(self.files[name])
        except KeyError:
            self.fail(name, "missing from the package")
        except (ValueError, RecursionError) as e:
            self.fail(name, f"not valid JSON ({e})")
        return None

    def manifest(self) -> dict[str, object]:
        before = len(self.problems)
        doc = self.json(MANIFEST)
        listed = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or not isinstance(listed, dict):
            if doc is not None:
                self.fail(MANIFEST, 'expected an object with "files": {path: {sha256, size}}')
            return {}
        rest = {k: v for k, v in doc.items() if k != "manifest_sha256"}
        compact = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if _sha256(compact.encode()) != doc.get("manifest_sha256"):
            self.fail(MANIFEST, "altered: its content does not match its own manifest_sha256")
        for name, meta in sorted(listed.items()):
            data = self.files.get(name)
            if data is None:
                self.fail(name, "listed in MANIFEST.json but missing from the package")
            elif not isinstance(meta, dict) or _sha256(data) != meta.get("sha256"):
                self.fail(
                    name,
                    "SHA-256 does not match MANIFEST.json (the file, or the manifest, was altered)",
                )
            elif len(data) != meta.get("size"):
                self.fail(name, "size does not match MANIFEST.json")
        for name in sorted(set(self.files) - set(listed) - {MANIFEST, MANIFEST_SIG}):
            self.fail(name, "not listed in MANIFEST.json (a file was added)")
        self.ok(before, f"manifest: {len(listed)} files, every SHA-256 and size matches")
        return doc

    def chain(self, manifest: dict[str, object]) -> None:
        data = self.files.get(LEDGER)
        if data is None:
            return self.fail(LEDGER, "missing from the package")
        before = len(self.problems)
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        prev, seq = "0" * 64, 0
        for number, raw in enumerate(lines, 1):
            where, seq = f"{LEDGER} line {number}", seq + 1
            if not raw.startswith(b'{"hash":"') or raw[73:75] != b'",':
                return self.fail(where, 'not a ledger entry (expected {"hash":"<64 hex>", first)')
            try:
                entry = json.loads(raw)
            except (ValueError, RecursionError) as e:
                return self.fail(where, f"not valid JSON ({e})")
            objects = entry.get("objects")
            if not isinstance(objects, list) or not all(isinstance(o, str) for o in objects):
                return self.fail(where, f"entry {seq}: objects is not a list of digests")
            digest, start = raw[9:73].decode("ascii", "replace"), raw.find(_STATEMENT)
            if _sha256(b"{" + raw[75:]) != digest:
                return self.fail(where, f"entry {seq}: hash does not match its content")
            if entry.get("prev") != prev:
                return self.fail(
                    where, f"entry {seq}: broken link (prev is not the hash of entry {seq - 1})"
                )
            if entry.get("seq") != seq:
                return self.fail(where, f"sequence gap: seq is {entry.get('seq')}, expected {seq}")
            if start < 0:
                return self.fail(where, f"entry {seq}: holds no statement")
            for obj in objects:
                blob = self.files.get(f"artifacts/{obj}")
                if blob is None:
                    self.fail(f"artifacts/{obj}", f"missing (named by ledger entry {seq})")
                elif _sha256(blob) != obj:
                    self.fail(f"artifacts/{obj}", "content does not match its SHA-256 name")
            self.statements[seq] = raw[start + len(_STATEMENT) : -1]
            self.hashes[seq] = prev = digest
        self.last = (seq, prev)
        ledger = manifest.get("ledger")
        if not isinstance(ledger, dict) or (ledger.get("entries"), ledger.get("last_hash")) != (
            seq,
            prev,
        ):
            self.fail(
                LEDGER,
                f"the chain ends at entry {seq} ({prev[:12]}…), not where MANIFEST.json says",
            )
        self.ok(before, f"ledger: {seq} entries chained from the first, last hash {prev}")

    def conformance(self) -> None:
        before = len(self.problems)
        doc = self.json("conformance.json")
        if not isinstance(doc, dict):
            return
        ledger, gate, where = doc.get("ledger"), doc.get("gate"), "conformance.json"
        if (
            isinstance(ledger, dict)
            and (ledger.get("last_seq"), ledger.get("last_hash")) != self.last
        ):
            self.fail(where, "its ledger slice does not end where the chain ends")
        if isinstance(gate, dict) and (gate.get("entry"), gate.get("hash")) != self.last:
            self.fail(where, "the gate verdict it names is not the chain's last entry")
        policy = doc.get("policy_document")
        if policy is not None:
            compact = json.dumps(policy, sort_keys=True, separators=(",", ":")).encode()
            if _sha256(compact) != doc.get("policy_digest"):
                self.fail(where, "policy_digest is not the SHA-256 of policy_document")
        self.ok(
            before, "conformance.json: ends where the chain ends; the policy matches its digest"
        )

    def statement_files(self) -> None:
        before = len(self.problems)
        names = [n for n in sorted(self.files) if n.startswith("statements/")]
        for name in names:
            stem = name[len("statements/") :].split(".", 1)[0]
            expected = self.statements.get(int(stem)) if stem.isdigit() else None
            if expected is None:
                self.fail(name, "names no entry of the ledger")
            elif name.endswith(".intoto.json") and self.files[name] != expected:
                self.fail(name, f"differs from the statement of ledger entry {stem}")
            elif name.endswith(".dsse.json"):
                self.envelope(name, expected, IN_TOTO, f"ledger entry {stem}")
        self.ok(before, f"statements: {len(names)} files match their ledger entries")

    def envelope(self, name: str, payload: bytes, payload_type: str, signs: str) -> None:
        """Check the DSSE envelope `name` over `payload` (the content of `signs`)."""
        doc = self.json(name)
        try:
            if not isinstance(doc, dict) or doc["payloadType"] != payload_type:
                raise TypeError(payload_type)
            body = base64.b64decode(doc["payload"], validate=True)
            sigs = [base64.b64decode(s["sig"], validate=True) for s in doc["signatures"]]
        except (KeyError, TypeError, binascii.Error):
            return self.fail(name, f"not a DSSE envelope of type {payload_type}")
        signed = pae(payload_type, body)
        if self.key is not None and not any(ed25519_verify(self.key, signed, s) for s in sigs):
            self.fail(name, "signature does not verify with the given public key")
        elif body != payload and self.key is not None:
            self.fail(signs, f"differs from the copy signed in {name} (altered after signing)")
        elif body != payload:
            self.fail(name, f"its payload differs from {signs} (one of them was altered)")

    def checkpoints(self) -> None:
        """Each checkpoint signs the entry before it; the entries of their batches are covered;
        tool evidence outside every batch is listed (people's statements carry their own)."""
        before, spans, signed = len(self.problems), [], 0
        for seq, raw in sorted(self.statements.items()):
            if b'"kind":"checkpoint"' not in raw:
                continue
            where = f"{LEDGER} entry {seq}"
            try:
                details = json.loads(raw)["predicate"]["details"]
                envelope = details["envelope"]
                body = base64.b64decode(envelope["payload"], validate=True)
                signed_head = json.loads(body)
                head = signed_head["subject"][0]["digest"]["sha256"]
                covers, first = signed_head["predicate"]["seq"], signed_head["predicate"]
                first = first.get("first", covers)  # older checkpoints: the entry they sign
                sigs = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
            except (KeyError, TypeError, IndexError, ValueError, RecursionError, binascii.Error):
                self.fail(where, "a checkpoint whose signed payload cannot be read")
                continue
            if covers != seq - 1 or head != self.hashes.get(seq - 1):
                self.fail(where, f"the checkpoint does not sign entry {seq - 1} as it is stored")
                continue
            if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= covers:
                self.fail(where, f"the checkpoint names no batch ending at entry {covers}")
                continue
            if self.key is not None and any(
                ed25519_verify(self.key, pae(IN_TOTO, body), s) for s in sigs
            ):
                signed += 1
            spans.append((first, seq))
        if not spans:
            self.ok(before, "checkpoints: none (no CI key signed this ledger's head)")
            return
        covered = {n for first, last in spans for n in range(first, last + 1)}
        people = (b'"collector":"record"', b'"collector":"waive"', b'"collector":"approve"')
        loose = [
            f"{n} {_kind(raw)}"
            for n, raw in sorted(self.statements.items())
            if n not in covered and not any(p in raw for p in people)
        ]
        ssh = sum(1 for raw in self.statements.values() if _is_ssh_checkpoint(raw))
        rest = len(spans) - ssh - signed
        checked = ", ".join(
            part
            for part in (
                f"{signed} signed by the given key" if signed else "",
                f"{ssh} SSH-signed (checked below)" if ssh else "",
                f"{rest} signatures not checked here (`sdl-tracker ledger verify` checks them)"
                if rest > 0
                else "",
            )
            if part
        )
        self.ok(
            before,
            f"checkpoints: {len(spans)}, each signs the entry before it; newest is entry "
            f"{spans[-1][1]}; {checked}",
        )
        if loose:
            self.passed.append(
                f"coverage: {len(loose)} entries of tool evidence covered by no checkpoint "
                f"(not counted by the gate once the roster names a CI key): {', '.join(loose)}"
            )
        else:
            self.passed.append("coverage: every entry of tool evidence is in a checkpoint's batch")

    def _holding(self, statement: bytes) -> list[int]:
        """The seqs of the entries whose statement is `statement`, oldest first."""
        if not self.by_bytes:
            for seq, raw in sorted(self.statements.items()):
                self.by_bytes.setdefault(raw, []).append(seq)
        return self.by_bytes.get(statement, [])

    def roster(self) -> list[dict[str, object]] | None:
        """The people of roster.json (the supplier's roster at the release), None without one."""
        if self.roster_data is None:
            return None
        try:
            doc = json.loads(self.roster_data)
        except (ValueError, RecursionError) as e:
            self.fail(self.roster_name, f"not valid JSON ({e})")
            return []
        people = doc.get("people") if isinstance(doc, dict) else None
        if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
            if doc is not None:
                self.fail(
                    self.roster_name,
                    'expected an object with "people": [{name, emails, keys, roles}]',
                )
            return []
        return people

    def ssh_signatures(self) -> None:
        """Every SSH signature of the ledger (people's signature entries and checkpoints):
        valid SSHSIG over the DSSE encoding of what it signs, by a key of the auditor's
        allowed-signers file (when given) that the package's roster gives the same person;
        checkpoints by a `ci` role holder. Other signature types are listed as not checked."""
        people, times = self.roster(), _checkpoint_times(self.statements)
        for seq, raw in sorted(self.statements.items()):
            if _SIGNATURE_MARK in raw or b'"kind":"checkpoint"' in raw:
                self._one_signature(seq, raw, people, times)
        marks = [s for s in self.signed.values() if s[0] == 0]
        if marks:
            by = sorted({s[1] for s in marks})
            self.passed.append(
                f"checkpoint signatures: {len(marks)} SSH signatures verify, by {'; '.join(by)}"
            )

    def _one_signature(
        self,
        seq: int,
        raw: bytes,
        people: list[dict[str, object]] | None,
        times: list[tuple[int, datetime]],
    ) -> None:
        where = f"{LEDGER} entry {seq}"
        try:
            predicate = json.loads(raw)["predicate"]
            kind = predicate["kind"]
        except (KeyError, TypeError, ValueError, RecursionError):
            return  # not an entry of ours: `chain` and `checkpoints` name what is wrong
        if kind not in ("signature", "checkpoint"):
            return
        try:
            envelope, method = predicate["details"]["envelope"], predicate["details"]["method"]
            payload = base64.b64decode(envelope["payload"], validate=True)
            payload_type, (only,) = str(envelope["payloadType"]), envelope["signatures"]
            keyid, armored = str(only["keyid"]), base64.b64decode(only["sig"], validate=True)
            stated = _time(predicate["recorded_at"] if kind != "checkpoint" else payload)
        except (KeyError, TypeError, ValueError, RecursionError, binascii.Error):
            return self.fail(where, f"a {kind} entry whose envelope or time cannot be read")
        if payload_type != IN_TOTO:
            return self.fail(where, f"its envelope's payload type is not {IN_TOTO}")
        if kind == "checkpoint":
            target, what = 0, f"the checkpoint of entry {seq - 1}"
            earliest = latest = stated
        else:
            before = [n for n in self._holding(payload) if n < seq]
            if not before:
                return self.fail(where, "it signs no statement in this ledger (altered after?)")
            target, what = before[-1], f"entry {before[-1]} {_kind(payload)}"
            # its place in the ledger bounds when it was signed (as `ledger verify` judges)
            earliest = min([stated, *(t for n, t in times if n > seq)])
            latest = max([stated, *(t for n, t in times if n < seq)])
        if method == "ed25519" and self.key is not None and kind == "checkpoint":
            if ed25519_verify(self.key, pae(payload_type, payload), armored):
                return  # counted by `checkpoints` as signed by the given key
        if method != "ssh":
            self.unchecked.append(f"entry {seq} ({method}, over {what})")
            self.unchecked_over.add(target)
            return
        try:
            signature = SshSignature(armored)
        except (ValueError, binascii.Error, UnicodeDecodeError) as e:
            return self.fail(where, f"its SSH signature cannot be read ({e})")
        key = ssh_key_text(signature.key)
        if signature.key_type not in SSH_CHECKED:
            self.unchecked.append(f"entry {seq} ({signature.key_type} key, over {what})")
            self.unchecked_over.add(target)
            return
        if " ".join(keyid.split()[:2]) != key:
            return self.fail(where, "made by another key than its envelope names")
        why = signature.verify(pae(payload_type, payload))
        if why:
            return self.fail(where, f"the SSH signature over {what} by {_short(key)}: {why}")
        signer = self._signer(where, signature.key, people, earliest, latest)
        if signer is None:
            return
        identity, roles, emails = signer
        self.signed[seq] = (target, identity, roles, emails)
        if kind == "checkpoint" and roles is not None and "ci" not in roles:
            self.fail(
                where, f"the checkpoint is signed by {identity}, who does not hold the ci role"
            )
        elif kind != "checkpoint":
            held = f" (roles: {', '.join(roles) or 'none'})" if roles is not None else ""
            self.passed.append(f"signature entry {seq} over {what}: {identity}{held}")

    def _signer(
        self,
        where: str,
        blob: bytes,
        people: list[dict[str, object]] | None,
        earliest: datetime,
        latest: datetime,
    ) -> tuple[str, tuple[str, ...] | None, tuple[str, ...]] | None:
        """(who, their roles per roster.json or None without one, their e-mails) of a valid
        signature by `blob`; None after failing, naming why it does not count."""
        key = ssh_key_text(blob)
        principals = None
        if self.allowed is not None:
            lines = [a for a in self.allowed if a.key == blob]
            refusals = [a.refuses(earliest, latest) for a in lines]
            allowing = [a for a, why in zip(lines, refusals) if not why]
            if not allowing:
                missing = (
                    "a key that is not in your allowed-signers file (it proves nothing about who)"
                )
                self.fail(where, f"signed by {_short(key)}, {'; '.join(refusals) or missing}")
                return None
            principals = ",".join(a.principals for a in allowing)
        person = next((p for p in people or () if key in _ssh_keys(p)), None)
        if person is None:
            if people is not None:
                self.fail(where, f"signed by {_short(key)}, a key {self.roster_name} gives nobody")
                return None
            who = principals if principals is not None else f"the holder of {_short(key)}"
            return who, None, ()
        emails = tuple(str(e).lower() for e in _list(person.get("emails")))
        name = f"{person.get('name')} <{emails[0] if emails else ''}>"
        if principals is not None and not any(match_patterns(e, principals) for e in emails):
            self.fail(
                where,
                f"{self.roster_name} gives {_short(key)} to {name}, your allowed-signers to "
                f"{principals}",
            )
            return None
        late = _outside_dates(person, key, earliest, latest)
        if late:
            self.fail(where, f"{self.roster_name}: the key {_short(key)} of {name} {late}")
            return None
        roles = tuple(str(r) for r in _list(person.get("roles")))
        return name, roles, emails

    def claims(self) -> None:
        """Every approval conformance.json counts rests on an SSH signature checked here by a
        holder of the role it needs (an approver who is not the requester; a
        product-security-lead for the policy's tailoring), or is listed as not checked."""
        doc = self.json("conformance.json") if "conformance.json" in self.files else None
        if not isinstance(doc, dict):
            return
        wanted = []
        for waiver in _list(doc.get("waivers")):
            if isinstance(waiver, dict) and waiver.get("approved_by") and not waiver.get("pending"):
                requester = _email(str(waiver.get("requested_by", "")))
                what = f"the waiver of {waiver.get('target')} (entry {waiver.get('seq')})"
                wanted.append((waiver.get("seq"), "approver", requester, what))
        tailoring = doc.get("tailoring")
        if isinstance(tailoring, dict) and tailoring.get("approved_by"):
            what = f"the policy's tailoring (entry {tailoring.get('entry')})"
            wanted.append((tailoring.get("entry"), "product-security-lead", "", what))
        for target, role, requester, what in wanted:
            self._claim(target, role, requester, what)

    def _claim(self, target: object, role: str, requester: str, what: str) -> None:
        over = [s for s in self.signed.values() if s[0] == target and target]
        if requester and any(s[2] is not None for s in over):
            # The request is proved by its requester's own signature; that one approves nothing.
            asked = [s for s in over if _fold(requester) in map(_fold, s[3])]
            if asked:
                over = [s for s in over if s not in asked]
            elif target in self.unchecked_over:
                self.unchecked.append(f"the request of {what}")
            else:
                self.fail(
                    "conformance.json",
                    f"counts {what} as approved, but no signature checked here is by its "
                    f"requester {requester}: nothing shows who asked for it",
                )
        good = [
            s
            for s in over
            if s[2] is not None and role in s[2] and _fold(requester) not in map(_fold, s[3])
        ]
        if good:
            who = good[0][1]
            self.passed.append(f"approval: {what} is signed by {who}, who holds the {role} role")
        elif target in self.unchecked_over and not over:
            self.unchecked.append(f"the approval of {what}")
        elif over and all(s[2] is None for s in over):
            self.unchecked.append(f"the {role} role behind {what} (the package has no {ROSTER})")
        else:
            whose = ", ".join(s[1] for s in over) or "nobody whose signature verifies here"
            self.fail(
                "conformance.json",
                f"counts {what} as approved, but it is signed by {whose}: not by someone "
                f"holding the {role} role who is not the requester",
            )

    def who(self) -> str:
        """What the verdict says about who made the ledger's SSH signatures."""
        if not self.signed and not self.unchecked:
            return ""
        if self.allowed is not None:
            said = f"; {len(self.signed)} SSH signatures by keys of your allowed-signers"
        elif self.signed:
            said = (
                f"; {len(self.signed)} SSH signatures verify, but only with keys the package "
                "itself names: who signed is NOT checked (pass --allowed-signers FILE)"
            )
        else:
            said = ""
        if self.unchecked:
            said += f"; {len(self.unchecked)} signatures NOT checked here (listed above)"
        return said

    def since(self, older: dict[str, bytes], name: str) -> None:
        """The older package's ledger slice is a prefix of this one's: nothing was rewritten
        or rolled back between the two exports."""
        before = len(self.problems)
        mine, theirs = self.files.get(LEDGER, b""), older.get(LEDGER)
        if theirs is None:
            return self.fail(name, f"{LEDGER} is missing from the older package")
        if not mine.startswith(theirs):
            old_lines, new_lines = theirs.split(b"\n"), mine.split(b"\n")
            line = next(
                (i for i, (a, b) in enumerate(zip(old_lines, new_lines), 1) if a != b),
                min(len(old_lines), len(new_lines)),
            )
            return self.fail(
                LEDGER,
                f"line {line} differs from {name} (or this slice is shorter): the ledger was "
                "rewritten or rolled back since that package was exported",
            )
        entries = theirs.count(b"\n")
        self.ok(before, f"since: the {entries} entries of {name} are the start of this ledger")

    def signatures(self) -> str:
        """Check the manifest's signature; what the verdict says about authenticity."""
        before = len(self.problems)
        if MANIFEST_SIG not in self.files:
            if self.key is not None:
                self.fail(MANIFEST_SIG, "missing: the package is not signed, but a key was given")
            return "integrity verified; authenticity not checked: the package is unsigned"
        self.envelope(MANIFEST_SIG, self.files.get(MANIFEST, b""), MANIFEST_TYPE, MANIFEST)
        if self.key is None:
            self.passed.append("signatures: present but NOT checked (pass --public-key KEY.pub)")
            return (
                "integrity verified; authenticity not checked: the package is signed, "
                "pass --public-key KEY.pub to check the signature"
            )
        self.ok(before, "signatures: MANIFEST.json is signed by the given key")
        return "integrity and authenticity verified: signed by the given key"


def _is_ssh_checkpoint(raw: bytes) -> bool:
    return b'"kind":"checkpoint"' in raw and b'"method":"ssh"' in raw


def _kind(statement: bytes) -> str:
    try:
        return str(json.loads(statement)["predicate"]["kind"])
    except (KeyError, TypeError, ValueError, RecursionError):
        return "(unreadable)"


def _time(value: object) -> datetime:
    """An ISO time the ledger wrote (`…Z`), or the `signed_at` of a checkpoint's payload bytes."""
    if isinstance(value, bytes):
        value = json.loads(value)["predicate"]["signed_at"]
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _checkpoint_times(statements: dict[int, bytes]) -> list[tuple[int, datetime]]:
    """(seq, time) of every checkpoint entry: CI's clock at each batch, in ledger order."""
    found = []
    for seq, raw in sorted(statements.items()):
        if b'"kind":"checkpoint"' in raw:
            try:
                found.append((seq, _time(json.loads(raw)["predicate"]["recorded_at"])))
            except (KeyError, TypeError, ValueError, RecursionError):
                continue
    return found


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _key_text(key: object) -> str:
    """A roster.json key (`{"key": …}` or a string), as `<type> <base64>` for an SSH key."""
    text = str(key.get("key", "")) if isinstance(key, dict) else str(key)
    return " ".join(text.split()[:2])


def _ssh_keys(person: dict[str, object]) -> set[str]:
    return {_key_text(k) for k in _list(person.get("keys"))}


def _outside_dates(
    person: dict[str, object], key: str, earliest: datetime, latest: datetime
) -> str:
    """Why the roster's dates of `key` exclude a signature made between the two times."""
    for item in _list(person.get("keys")):
        if isinstance(item, dict) and _key_text(item) == key:
            start, end = item.get("not_before"), item.get("expires")
            if start and earliest.astimezone(timezone.utc).date().isoformat() < str(start):
                return f"is not valid before {start}"
            if end and latest.astimezone(timezone.utc).date().isoformat() > str(end):
                return f"expired on {end}"
    return ""


def _email(identity: str) -> str:
    return identity[identity.find("<") + 1 : identity.rfind(">")] if "<" in identity else ""


def _fold(email: str) -> str:
    """Lower-cased, a `+tag` sub-address removed: how the gate tells people apart."""
    return re.sub(r"\+[^@]*@", "@", email.strip().lower())


def _printable(text: str) -> str:
    """`text` with control and format characters escaped: a package's names cannot move the
    cursor, recolour or reorder what the auditor's terminal shows (a forged `ok` line)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def read_package(path: Path) -> dict[str, bytes]:
    """Every file of a zip (or of an unpacked package directory), by its path inside it."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file())
        return {p.relative_to(path).as_posix(): p.read_bytes() for p in found}
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            if info.filename in files:
                raise ValueError(f"{info.filename} appears twice in the zip")
            files[info.filename] = z.read(info)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an sdl-tracker evidence package.")
    parser.add_argument("package", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--public-key", type=Path, help="PEM Ed25519 public key: check signatures")
    parser.add_argument(
        "--since", type=Path, metavar="OLDER.zip", help="an earlier package of the same ledger"
    )
    parser.add_argument(
        "--allowed-signers",
        type=Path,
        action="append",
        metavar="FILE",
        help="OpenSSH allowed_signers file with the keys you trust (from the supplier, by "
        "another channel): check who made each SSH signature",
    )
    parser.add_argument(
        "--roster",
        type=Path,
        metavar="ROSTER.json",
        help="the supplier's roster.json as you received it by another channel: the signers' "
        "roles and key dates are read from it instead of the package's copy",
    )
    args = parser.parse_args(argv)
    try:
        roster = (f"{args.roster} (--roster)", args.roster.read_bytes()) if args.roster else None
    except OSError as e:
        parser.error(f"--roster {args.roster}: {e}")
    try:
        key = public_key(args.public_key.read_bytes()) if args.public_key else None
    except (OSError, ValueError) as e:
        parser.error(f"--public-key {args.public_key}: {e}")
    allowed = None
    for path in args.allowed_signers or ():
        try:
            text = path.read_text(encoding="utf-8")
            allowed = (allowed or []) + read_allowed_signers(text, str(path))
        except (OSError, ValueError) as e:
            parser.error(f"--allowed-signers {path}: {e}")
    try:
        files = read_package(args.package)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        print(f"FAIL {args.package}: cannot read the package: {e}")
        return 1
    check = Checker(files, key, allowed, roster)
    manifest = check.manifest()
    check.chain(manifest)
    check.conformance()
    check.statement_files()
    check.checkpoints()
    check.ssh_signatures()
    check.claims()
    authenticity = check.signatures() + check.who()
    if args.since is not None:
        try:
            check.since(read_package(args.since), str(args.since))
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            check.fail(str(args.since), f"cannot read the older package: {e}")
    for line in check.passed:
        print(f"ok   {_printable(line)}")
    if check.unchecked:
        listed = _printable("; ".join(check.unchecked))
        print(f"NOT CHECKED here ({len(check.unchecked)}): {listed}")
    for problem in check.problems:
        print(f"FAIL {_printable(problem)}")
    if check.problems:
        print(f"NOT VERIFIED: {len(check.problems)} problem(s) in {args.package}")
        return 1
    print(f"VERIFIED: {authenticity}: {args.package}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
