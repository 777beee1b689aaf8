"""verify.py: check an sdl-tracker evidence package with nothing but the Python standard library.

    python -I verify.py evidence-v1.4.0.zip [--public-key signing-key.pub]
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
   checked when --public-key is the CI key (a `keygen` key); otherwise it is reported unchecked.
Exit 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import zipfile
from pathlib import Path

MANIFEST, MANIFEST_SIG, LEDGER = "MANIFEST.json", "MANIFEST.json.dsse", "ledger/entries.jsonl"
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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


class Checker:
    """Runs every check over the package's files, collecting `file: reason` problems."""

    def __init__(self, files: dict[str, bytes], key: bytes | None) -> None:
        self.files, self.key = files, key
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
        checked = (
            f"{signed} signed by the given key"
            if self.key is not None
            else "signatures not checked here (`sdl-tracker ledger verify` checks them)"
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


def _kind(statement: bytes) -> str:
    try:
        return str(json.loads(statement)["predicate"]["kind"])
    except (KeyError, TypeError, ValueError, RecursionError):
        return "(unreadable)"


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
    args = parser.parse_args(argv)
    try:
        key = public_key(args.public_key.read_bytes()) if args.public_key else None
    except (OSError, ValueError) as e:
        parser.error(f"--public-key {args.public_key}: {e}")
    try:
        files = read_package(args.package)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        print(f"FAIL {args.package}: cannot read the package: {e}")
        return 1
    check = Checker(files, key)
    manifest = check.manifest()
    check.chain(manifest)
    check.conformance()
    check.statement_files()
    check.checkpoints()
    authenticity = check.signatures()
    if args.since is not None:
        try:
            check.since(read_package(args.since), str(args.since))
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            check.fail(str(args.since), f"cannot read the older package: {e}")
    for line in check.passed:
        print(f"ok   {line}")
    for problem in check.problems:
        print(f"FAIL {problem}")
    if check.problems:
        print(f"NOT VERIFIED: {len(check.problems)} problem(s) in {args.package}")
        return 1
    print(f"VERIFIED: {authenticity}: {args.package}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
