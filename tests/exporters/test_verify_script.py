"""verify.py: pure-Python Ed25519 against `cryptography`, and the script run by the system Python
under `-I` (no venv, no third-party packages) on real packages, intact and tampered with."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import release_factory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from release_factory import Release

from sdl_tracker.cli.main import main
from sdl_tracker.exporters import verify_script

# The system interpreter an auditor would use: not the venv's (sdl-tracker's dependencies).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or str(
    Path(sys.base_prefix) / "bin" / "python3"
)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_ed25519_rfc8032_test_vector_1() -> None:
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
        "1cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert verify_script.ed25519_verify(public, b"", signature)
    assert not verify_script.ed25519_verify(public, b"x", signature)


@pytest.mark.parametrize("size", [0, 1, 64, 1000])
def test_ed25519_agrees_with_cryptography(size: int) -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    message = bytes(range(256)) * (size // 256) + bytes(size % 256)
    signature = key.sign(message)
    assert verify_script.ed25519_verify(_raw(key), message, signature)
    assert not verify_script.ed25519_verify(_raw(other), message, signature)  # wrong key
    for i in (0, 31, 32, 63):  # R and S halves
        flipped = bytearray(signature)
        flipped[i] ^= 0x01
        assert not verify_script.ed25519_verify(_raw(key), message, bytes(flipped))
    if message:
        changed = bytearray(message)
        changed[-1] ^= 0x80
        assert not verify_script.ed25519_verify(_raw(key), bytes(changed), signature)
    assert not verify_script.ed25519_verify(_raw(key)[:31], message, signature)
    assert not verify_script.ed25519_verify(_raw(key), message, signature[:63])


def test_public_key_reads_the_pem_cryptography_writes() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert verify_script.public_key(pem) == _raw(key)
    with pytest.raises(ValueError, match="not a PEM public key"):
        verify_script.public_key(b"ssh-ed25519 AAAA")
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="not a PEM public key"):
        verify_script.public_key(private)


def test_the_script_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(verify_script.__file__).read_text(encoding="utf-8"))
    modules = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    modules |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert modules - {"__future__"} <= set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The session release exported unsigned and signed, a key pair and a wrong public key."""
    released: Release = release_factory.shared(tmp_path_factory)
    work = tmp_path_factory.mktemp("verify")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in release_factory.git_environment(work).items():
            mp.setenv(name, value)
        key, wrong = work / "signing-key", work / "wrong-key"
        assert main(["keygen", "--out", str(key)]) == 0
        assert main(["keygen", "--out", str(wrong)]) == 0
        plain, signed = work / "plain.zip", work / "signed.zip"
        base = ["export", "--repo", str(released.repo), "--release", released.tag]
        assert main([*base, "--out", str(plain)]) == 0
        assert main([*base, "--out", str(signed), "--sign", str(key)]) == 0
    script = work / "verify.py"
    with zipfile.ZipFile(plain) as z:
        script.write_bytes(z.read("verify.py"))
    return {
        "plain": plain,
        "signed": signed,
        "key": work / "signing-key.pub",
        "wrong": work / "wrong-key.pub",
        "script": script,
    }


def verify(
    packages: dict[str, Path], target: Path, *extra: str, flags: tuple[str, ...] = ("-I",)
) -> tuple[int, str]:
    proc = subprocess.run(
        [SYSTEM_PYTHON, *flags, str(packages["script"]), str(target), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    return proc.returncode, proc.stdout + proc.stderr


def rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of the zip with files replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(source) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
    for name, data in change.items():
        if data is None:
            files.pop(name)
        else:
            files[name] = data
    with zipfile.ZipFile(target, "w") as z:
        for name in sorted(files):
            z.writestr(name, files[name])
    return target


def read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def remanifest(files: dict[str, bytes]) -> bytes:
    """MANIFEST.json recomputed for `files`: what a forger would do."""
    manifest = json.loads(files["MANIFEST.json"])
    manifest["files"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
        for n, d in sorted(files.items())
        if n not in ("MANIFEST.json", "MANIFEST.json.dsse")
    }
    del manifest["manifest_sha256"]
    compact = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    manifest["manifest_sha256"] = hashlib.sha256(compact.encode()).hexdigest()
    return json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"


def test_an_intact_package_verifies_under_the_system_python_isolated(
    packages: dict[str, Path],
) -> None:
    code, out = verify(packages, packages["plain"])
    assert code == 0, out
    assert "ok   manifest:" in out and "ok   ledger:" in out
    assert "VERIFIED: integrity verified; authenticity not checked: the package is unsigned" in out
    code, out = verify(packages, packages["signed"])
    assert code == 0 and "authenticity not checked: the package is signed, pass --public-key" in out
    # -S: not even site-packages; only the standard library exists
    code, out = verify(
        packages, packages["signed"], "--public-key", str(packages["key"]), flags=("-I", "-S")
    )
    assert code == 0, out
    assert "ok   signatures: MANIFEST.json is signed by the given key" in out
    assert "VERIFIED: integrity and authenticity verified: signed by the given key" in out


def test_an_unpacked_package_verifies_from_its_own_directory(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    with zipfile.ZipFile(packages["signed"]) as z:
        z.extractall(tmp_path)
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-I", "verify.py", "--public-key", str(packages["key"])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tmp_path / "extra.txt").write_text("dropped in later\n")
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-I", str(tmp_path / "verify.py")], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "FAIL extra.txt: not listed in MANIFEST.json (a file was added)" in proc.stdout


def _flip(data: bytes) -> bytes:
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("kind", ["plain", "signed"])
def test_one_changed_byte_in_any_file_fails_naming_that_file(
    packages: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    original = read(packages[kind])
    key = ("--public-key", str(packages["key"])) if kind == "signed" else ()
    for i, (name, data) in enumerate(sorted(original.items())):
        target = rewrite(packages[kind], tmp_path / f"{i}.zip", {name: _flip(data)})
        code, out = verify(packages, target, *key)
        assert code == 1, name
        assert f"FAIL {name}: " in out, (name, out)
        assert "NOT VERIFIED" in out


def test_added_and_removed_files_are_named(packages: dict[str, Path], tmp_path: Path) -> None:
    target = rewrite(
        packages["plain"], tmp_path / "a.zip", {"notes.txt": b"x", "findings.sarif": None}
    )
    code, out = verify(packages, target)
    assert code == 1
    assert "FAIL notes.txt: not listed in MANIFEST.json" in out
    assert "FAIL findings.sarif: listed in MANIFEST.json but missing from the package" in out


def test_a_forged_ledger_with_a_recomputed_manifest_fails_the_chain(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    files = read(packages["plain"])
    lines = files["ledger/entries.jsonl"].split(b"\n")
    lines[2] = lines[2].replace(b'"status":"fail"', b'"status":"pass"', 1)
    files["ledger/entries.jsonl"] = b"\n".join(lines)
    target = rewrite(
        packages["plain"],
        tmp_path / "forged.zip",
        {"ledger/entries.jsonl": files["ledger/entries.jsonl"], "MANIFEST.json": remanifest(files)},
    )
    code, out = verify(packages, target)
    assert code == 1
    assert "FAIL ledger/entries.jsonl line 3: entry 3: hash does not match its content" in out
    # dropping an entry instead breaks the link of the next one
    files = read(packages["plain"])
    lines = files["ledger/entries.jsonl"].split(b"\n")
    del lines[3]
    files["ledger/entries.jsonl"] = b"\n".join(lines)
    target = rewrite(
        packages["plain"],
        tmp_path / "dropped.zip",
        {"ledger/entries.jsonl": files["ledger/entries.jsonl"], "MANIFEST.json": remanifest(files)},
    )
    code, out = verify(packages, target)
    assert code == 1
    assert "line 4: entry 4: broken link" in out


def test_a_forged_statement_file_fails(packages: dict[str, Path], tmp_path: Path) -> None:
    files = read(packages["plain"])
    files["statements/5.intoto.json"] = files["statements/5.intoto.json"].replace(
        b'"fail"', b'"pass"'
    )
    target = rewrite(
        packages["plain"],
        tmp_path / "s.zip",
        {
            "statements/5.intoto.json": files["statements/5.intoto.json"],
            "MANIFEST.json": remanifest(files),
        },
    )
    code, out = verify(packages, target)
    assert code == 1
    assert "FAIL statements/5.intoto.json: differs from the statement of ledger entry 5" in out


def test_signatures_fail_with_a_wrong_key_or_a_recomputed_manifest(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    code, out = verify(packages, packages["signed"], "--public-key", str(packages["wrong"]))
    assert code == 1
    assert "FAIL MANIFEST.json.dsse: signature does not verify with the given public key" in out
    assert "FAIL statements/1.dsse.json: signature does not verify" in out
    # a forger changes a file and recomputes MANIFEST.json: the signature no longer covers it
    files = read(packages["signed"])
    files["conformance.json"] = files["conformance.json"].replace(
        b'"passed": false', b'"passed": true'
    )
    target = rewrite(
        packages["signed"],
        tmp_path / "f.zip",
        {"conformance.json": files["conformance.json"], "MANIFEST.json": remanifest(files)},
    )
    code, out = verify(packages, target, "--public-key", str(packages["key"]))
    assert code == 1
    assert "FAIL MANIFEST.json: differs from the copy signed in MANIFEST.json.dsse" in out
    # ... and re-wrapping the new manifest in the old envelope's signature does not verify
    envelope = json.loads(files["MANIFEST.json.dsse"])
    envelope["payload"] = base64.b64encode(remanifest(files)).decode()
    target = rewrite(
        target, tmp_path / "g.zip", {"MANIFEST.json.dsse": json.dumps(envelope).encode()}
    )
    code, out = verify(packages, target, "--public-key", str(packages["key"]))
    assert code == 1
    assert "FAIL MANIFEST.json.dsse: signature does not verify with the given public key" in out


def test_an_unsigned_package_fails_when_a_key_is_given(packages: dict[str, Path]) -> None:
    code, out = verify(packages, packages["plain"], "--public-key", str(packages["key"]))
    assert code == 1
    assert "FAIL MANIFEST.json.dsse: missing: the package is not signed, but a key was given" in out
    code, out = verify(packages, packages["signed"])
    assert code == 0 and "signatures: present but NOT checked" in out


def test_not_a_package(packages: dict[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    code, out = verify(packages, junk)
    assert code == 1 and "cannot read the package" in out
    duplicate = tmp_path / "dup.zip"
    shutil.copy(packages["plain"], duplicate)
    with zipfile.ZipFile(duplicate, "a") as z, pytest.warns(UserWarning):
        z.writestr("index.html", b"<p>replaced</p>")
    code, out = verify(packages, duplicate)
    assert code == 1 and "index.html appears twice" in out
    code, out = verify(packages, packages["plain"], "--public-key", str(junk))
    assert code == 2 and "not a PEM public key" in out


def _line(body: bytes) -> bytes:
    """A ledger line whose hash is right for `body` (what a forger can always produce)."""
    digest = hashlib.sha256(b"{" + body).hexdigest()
    return b'{"hash":"' + digest.encode() + b'",' + body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'"objects":5,"prev":"' + b"0" * 64 + b'","seq":1,"statement":{}}',
            "objects is not a list",
        ),
        (b'"objects":[],"prev":"' + b"1" * 64 + b'","seq":1,"statement":{}}', "broken link"),
        (b'"objects":[],"prev":"' + b"0" * 64 + b'","seq":2,"statement":{}}', "sequence gap"),
        (b'"objects":[],"prev":"' + b"0" * 64 + b'","seq":1}', "holds no statement"),
        (
            b'"objects":["' + b"a" * 64 + b'"],"prev":"' + b"0" * 64 + b'","seq":1,"statement":{}}',
            "missing (named by ledger entry 1)",
        ),
    ],
)
def test_hand_made_entries_are_reported_not_crashed_on(body: bytes, reason: str) -> None:
    check = verify_script.Checker({"ledger/entries.jsonl": _line(body) + b"\n"}, None)
    check.chain({"ledger": {"entries": 1, "last_hash": "x"}})
    assert any(reason in p for p in check.problems), check.problems
    check = verify_script.Checker({"ledger/entries.jsonl": b'{"hash":"short"}\n'}, None)
    check.chain({})
    assert check.problems == [
        'ledger/entries.jsonl line 1: not a ledger entry (expected {"hash":"<64 hex>", first)'
    ]


def test_since_an_older_package_whose_slice_is_a_prefix(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    with zipfile.ZipFile(packages["plain"]) as z:
        slice_ = z.read("ledger/entries.jsonl")
    lines = slice_.splitlines(keepends=True)
    older = rewrite(
        packages["plain"],
        tmp_path / "older.zip",
        {
            "ledger/entries.jsonl": b"".join(lines[:-1]),
        },
    )
    code, out = verify(packages, packages["plain"], "--since", str(older))
    assert code == 0, out
    assert f"since: the {len(lines) - 1} entries of {older} are the start of this ledger" in out
    # The other way round: the "newer" package holds less than the older one (rolled back).
    code, out = verify(packages, older, "--since", str(packages["plain"]))
    assert code == 1
    assert "the ledger was rewritten or rolled back since that package was exported" in out
    # A rewritten first entry in the older package: not a prefix.
    forged = rewrite(
        packages["plain"],
        tmp_path / "forged.zip",
        {
            "ledger/entries.jsonl": lines[0].replace(b'"seq":1', b'"seq":1 ')
            + b"".join(lines[1:2]),
        },
    )
    code, out = verify(packages, packages["plain"], "--since", str(forged))
    assert code == 1 and "FAIL ledger/entries.jsonl: line 1 differs from" in out
