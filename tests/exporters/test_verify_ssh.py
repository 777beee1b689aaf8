"""verify.py checks SSH signatures itself: held to `ssh-keygen -Y verify` on random messages
(Hypothesis), and run by the system Python on the export of a real repository whose people
signed with ssh-keygen (Ed25519) and whose CI signed checkpoints with an RSA SSH key; then on
that package forged the ways an attacker would (re-chained, re-manifested) to fail."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import git
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from identity import roster_text, ssh_keys
from release_factory import SOON, git_environment, new_repo

from sdl_tracker.cli.main import main
from sdl_tracker.exporters import verify_script
from sdl_tracker.formats import roster as roster_mod
from sdl_tracker.gitdata.attest import pae

# The system interpreter an auditor would use: not the venv's (sdl-tracker's dependencies).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or str(
    Path(sys.base_prefix) / "bin" / "python3"
)
NS = "sdl-tracker"
CI = '  - name: CI\n    emails: [ci@example.com]\n    keys: ["{key}"]\n    roles: [ci]\n'
SECURITY = "# Security\n\n## Reporting a vulnerability\n\nMail us.\n\n## Disclosure\n\n90 days.\n"


def _keygen(path: Path, kind: str, bits: str = "") -> Path:
    if not path.exists():
        extra = ["-b", bits] if bits else []
        argv = ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", path.name, "-f", str(path)]
        subprocess.run(argv, check=True)
    return path


def _public(key: Path) -> str:
    return " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])


def _sign(key: Path, message: bytes, namespace: str = NS) -> bytes:
    argv = ["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", str(key)]
    return subprocess.run(argv, input=message, capture_output=True, check=True).stdout


# --- differential: verify.py's verdict is ssh-keygen's -----------------------------------------


@pytest.fixture(scope="module")
def diff_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("diffkeys")
    return {
        "ed25519": _keygen(where / "ed", "ed25519"),
        "rsa": _keygen(where / "rsa", "rsa", "2048"),
        "other": _keygen(where / "other", "ed25519"),
        "ecdsa": _keygen(where / "ecdsa", "ecdsa"),
    }


def _flip(armored: bytes, at: int) -> bytes:
    """The armored signature with one bit of its decoded blob flipped at `at` (mod length)."""
    lines = armored.decode().strip().splitlines()
    blob = bytearray(base64.b64decode("".join(lines[1:-1])))
    blob[at % len(blob)] ^= 1 << (at % 8)
    text = base64.b64encode(bytes(blob)).decode()
    body = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([lines[0], *body, lines[-1]]).encode() + b"\n"


def _ours(armored: bytes, message: bytes, allowed: str, principal: str) -> bool:
    """verify.py's verdict as `ssh-keygen -Y verify -I principal -n sdl-tracker` gives it."""
    try:
        sig = verify_script.SshSignature(armored)
    except (ValueError, UnicodeDecodeError):  # what the checker catches: "cannot be read"
        return False
    if sig.verify(message):  # never raises: every byte was read above
        return False
    lines = verify_script.read_allowed_signers(allowed, "allowed")
    now = verify_script.datetime.now(verify_script.timezone.utc)
    return any(
        a.key == sig.key
        and not a.refuses(now, now)
        and verify_script.match_patterns(principal, a.principals)
        for a in lines
    )


MUTATIONS = (
    "none",
    "message",
    "blob",
    "wrong key",
    "namespace option",
    "other namespace",
    "expired",
    "not yet valid",
    "principal",
    "wildcard",
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Found by this test with 400 examples (bits of an Ed25519 SSHSIG blob flipped): version 0,
# which ssh-keygen accepts; a key blob whose length field makes it empty or truncated, which
# verify.py once raised on instead of refusing.
@example(message=b"", kind="ed25519", mutation="blob", at=552, hash_alg="sha512")
@example(message=b"", kind="ed25519", mutation="blob", at=213, hash_alg="sha512")
@example(message=b"", kind="ed25519", mutation="blob", at=210, hash_alg="sha512")
@given(
    message=st.binary(max_size=600),
    kind=st.sampled_from(["ed25519", "rsa", "ecdsa"]),
    mutation=st.sampled_from(MUTATIONS),
    at=st.integers(min_value=0, max_value=10_000),
    hash_alg=st.sampled_from(["sha512", "sha256"]),
)
def test_the_verdict_is_ssh_keygens(
    diff_keys: dict[str, Path],
    tmp_path: Path,
    message: bytes,
    kind: str,
    mutation: str,
    at: int,
    hash_alg: str,
) -> None:
    key = diff_keys[kind]
    namespace = "git" if mutation == "other namespace" else NS
    argv = ["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", str(key)]
    argv += ["-O", f"hashalg={hash_alg}"]
    armored = subprocess.run(argv, input=message, capture_output=True, check=True).stdout
    signed = key
    if mutation == "message":
        message = message[:-1] + bytes([message[-1] ^ 1]) if message else b"x"
    elif mutation == "blob":
        armored = _flip(armored, at)
    elif mutation == "wrong key":
        signed = diff_keys["other"]
    principal, options = "ada@example.com", ""
    if mutation == "namespace option":
        options = 'namespaces="git,!sdl-*" '
    elif mutation == "expired":
        options = 'valid-before="20200101Z" '
    elif mutation == "not yet valid":
        options = 'valid-after="20990101",namespaces="sdl-tracker" '
    elif mutation == "wildcard":
        options = 'namespaces="sdl-*" '
        principal = "ada+x@example.com"
    listed = "*@example.com" if mutation == "wildcard" else "ada@example.com,grace@example.com"
    allowed = f"{listed} {options}{_public(signed)}\n"
    if mutation == "principal":
        principal = "mallory@example.com"
    (tmp_path / "allowed").write_text(allowed)
    (tmp_path / "sig").write_bytes(armored)
    theirs = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", principal]
        + ["-n", NS, "-s", str(tmp_path / "sig")],
        input=message,
        capture_output=True,
    )
    ours = _ours(armored, message, allowed, principal)
    if kind == "ecdsa":  # not checked here: never passed
        assert not ours
        return
    assert ours == (theirs.returncode == 0), (mutation, theirs.stderr)


def test_allowed_signers_lines_are_read_as_openssh_reads_them(tmp_path: Path) -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5I70Jqee+Y+DWR3UWPQQTa+rMXGF/MoKaQAI0RcbFL"
    text = (
        "# comment\n\n"
        f'"ada@example.com,grace@example.com" namespaces="git,sdl-tracker" {key} ada\n'
        f'ci@example.com VALID-AFTER="20260101",valid-before="20270101120000Z" {key}\n'
        f"ca@example.com cert-authority {key}\n"
    )
    lines = verify_script.read_allowed_signers(text, "f")
    assert [a.principals for a in lines] == [
        "ada@example.com,grace@example.com",
        "ci@example.com",
        "ca@example.com",
    ]
    assert lines[0].namespaces == "git,sdl-tracker" and lines[0].where == "f line 3"
    assert lines[1].valid_before is not None and lines[1].valid_before.year == 2027
    when = lines[1].valid_before
    assert lines[2].refuses(when, when).endswith("certificates are not checked here)")
    for bad, why in [
        ("ada@example.com ssh-ed25519", "expected principals"),
        (f"ada@example.com ssh-rsa {key.split()[1]}", "not a valid ssh-rsa public key"),
        (f"ada@example.com restrict {key}", "unknown or unquoted option"),
        (f'ada@example.com valid-after="2026" {key}', "is not YYYYMMDD"),
    ]:
        with pytest.raises(ValueError, match=why) as raised:
            verify_script.read_allowed_signers(f"# x\n{bad}\n", "f")
        assert str(raised.value).startswith("f line 2: ")


# --- a real export: people sign with ssh-keygen, CI signs checkpoints with an RSA key ----------


@pytest.fixture(scope="module")
def signed_release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tess attests, Grace approves a waiver and the policy's tailoring (Ed25519 SSH keys); CI
    signs a checkpoint after each `collect` and `gate` batch (RSA SSH key); the release's
    package, the auditor's allowed-signers file and the keys."""
    work = tmp_path_factory.mktemp("sshrelease")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in git_environment(work).items():
            mp.setenv(name, value)
        mp.delenv("SDL_TRACKER_SIGNING_KEY", raising=False)
        repo = new_repo(work / "repo")
        keys = ssh_keys(work / "keys", ["ada", "grace", "tess"])
        ci = _keygen(work / "keys" / "ci_rsa", "rsa", "2048")
        mallory = _keygen(work / "keys" / "mallory", "ed25519")
        ecdsa = _keygen(work / "keys" / "tess_ecdsa", "ecdsa")
        roster = roster_text(keys) + CI.format(key=_public(ci))
        (repo / "sdl-roster.yaml").write_text(roster)
        (repo / "SECURITY.md").write_text(SECURITY)
        (repo / ".sdl-tracker.toml").write_text(
            'policy = "sdl-policy.yaml"\n\n[collect]\nenabled = ["documents"]\n'
        )
        (repo / "sdl-policy.yaml").write_text(
            "extends: iec62443-4-1\nnot_applicable:\n  SM-10: no supplier components\n"
        )
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "release candidate")
        r = ["--repo", str(repo)]
        assert main(["init", *r]) == 0
        mp.setenv("SDL_TRACKER_SIGNING_KEY", str(ci))
        assert main(["collect", *r, "--only", "secrets"]) == 0
        mp.delenv("SDL_TRACKER_SIGNING_KEY")
        report = work / "pentest.txt"
        report.write_text("external penetration test: 2 low findings\n")
        assert (
            main(
                ["record", "pentest_report", str(report), *r, "--requirement", "SVV-4"]
                + ["--sign", "--key", str(keys["tess"])]
            )
            == 0
        )
        assert (
            main(
                ["waive", "SM-8", *r, "--reason", "rotating the key", "--expires"]
                + [SOON, "--approver", "Grace Hopper <grace@example.com>"]
                + ["--key", str(keys["ada"])]
            )
            == 0
        )
        entries = _entries(repo)
        waiver = max(n for n, st_ in entries.items() if st_["predicate"]["kind"] == "waiver")
        assert main(["approve", str(waiver), "--key", str(keys["grace"]), *r]) == 0
        assert main(["approve", "--policy", "--key", str(keys["grace"]), *r]) == 0
        git(repo, "tag", "-a", "v1.0", "-m", "release 1.0")
        mp.setenv("SDL_TRACKER_SIGNING_KEY", str(ci))
        main(["gate", *r, "--release", "v1.0"])
        mp.delenv("SDL_TRACKER_SIGNING_KEY")
        package = work / "evidence.zip"
        assert main(["export", *r, "--release", "v1.0", "--out", str(package)]) == 0
    allowed = work / "allowed_signers"
    allowed.write_text(roster_mod.parse(roster).allowed_signers())
    script = work / "verify.py"
    with zipfile.ZipFile(package) as z:
        script.write_bytes(z.read("verify.py"))
    return {
        "package": package,
        "allowed": allowed,
        "script": script,
        "mallory": mallory,
        "ecdsa": ecdsa,
        "work": work,
        **keys,
    }


def _entries(repo: Path) -> dict[int, dict[str, object]]:
    from sdl_tracker import ledger
    from sdl_tracker.ledger import GitStore

    return {e.seq: json.loads(e.raw)["statement"] for e in ledger.entries(GitStore(repo))}


def run(release: dict[str, Path], package: Path, *extra: str) -> tuple[int, str]:
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-I", str(release["script"]), str(package), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    return proc.returncode, proc.stdout + proc.stderr


def _read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _seq_of(files: dict[str, bytes], kind: str, signs: str = "") -> int:
    """The seq of the last entry of `kind` (a signature entry: over an entry of kind `signs`)."""
    found = 0
    statements = {}
    for line in files["ledger/entries.jsonl"].splitlines():
        entry = json.loads(line)
        statements[entry["seq"]] = entry["statement"]
        predicate = entry["statement"]["predicate"]
        if predicate["kind"] != kind:
            continue
        if signs:
            payload = base64.b64decode(predicate["details"]["envelope"]["payload"])
            if json.loads(payload)["predicate"]["kind"] != signs:
                continue
        found = entry["seq"]
    assert found, (kind, signs)
    return found


def forge(files: dict[str, bytes], seq: int, change: object, target: Path) -> Path:
    """What a forger with write access to the package does: change entry `seq`'s statement
    (`change(statement) -> statement`), re-chain every later entry, carry the new hashes into
    every file naming them, rewrite the statement file and MANIFEST.json."""
    lines = files["ledger/entries.jsonl"].split(b"\n")[:-1]
    renamed: dict[bytes, bytes] = {}
    prev = b"0" * 64
    for i, raw in enumerate(lines):
        entry = json.loads(raw)
        old = entry["hash"].encode()
        if entry["seq"] == seq:  # the changed entry, serialised as the ledger does
            entry["statement"] = change(entry["statement"])  # type: ignore[operator]
            entry["prev"] = prev.decode()
            del entry["hash"]
            body = json.dumps(
                entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()[1:]
        else:  # every other entry keeps its bytes, its link re-pointed
            body = raw[75:].replace(entry["prev"].encode(), prev, 1)
        digest = hashlib.sha256(b"{" + body).hexdigest().encode()
        renamed[old] = digest
        lines[i] = b'{"hash":"' + digest + b'",' + body
        prev = digest
        if entry["seq"] == seq and f"statements/{seq}.intoto.json" in files:
            start = lines[i].index(b',"statement":') + len(b',"statement":')
            files[f"statements/{seq}.intoto.json"] = lines[i][start:-1]
    files["ledger/entries.jsonl"] = b"\n".join(lines) + b"\n"
    for name in ("conformance.json", "MANIFEST.json"):
        for old, new in renamed.items():
            files[name] = files[name].replace(old, new)
    manifest = json.loads(files["MANIFEST.json"])
    manifest["files"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
        for n, d in sorted(files.items())
        if n not in ("MANIFEST.json", "MANIFEST.json.dsse")
    }
    del manifest["manifest_sha256"]
    compact = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    manifest["manifest_sha256"] = hashlib.sha256(compact.encode()).hexdigest()
    files["MANIFEST.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    with zipfile.ZipFile(target, "w") as z:
        for name in sorted(files):
            z.writestr(name, files[name])
    return target


def _resign(key: Path, keyid: str | None = None) -> object:
    """A change that replaces a signature entry's SSH signature with `key`'s over the same
    payload (keyid: `key`'s own, unless given)."""

    def change(statement: dict[str, object]) -> dict[str, object]:
        envelope = statement["predicate"]["details"]["envelope"]  # type: ignore[index]
        payload = base64.b64decode(envelope["payload"])
        signature = _sign(key, pae(envelope["payloadType"], payload))
        envelope["signatures"] = [
            {
                "keyid": keyid or _public(key),
                "sig": base64.b64encode(signature).decode(),
            }
        ]
        return statement

    return change


def test_the_right_allowed_signers_verify_who_signed_what(
    signed_release: dict[str, Path],
) -> None:
    code, out = run(signed_release, signed_release["package"])
    assert code == 0, out
    assert "who signed is NOT checked (pass --allowed-signers FILE)" in out
    code, out = run(
        signed_release,
        signed_release["package"],
        "--allowed-signers",
        str(signed_release["allowed"]),
    )
    assert code == 0, out
    assert (
        "pentest_report: Tess Tester <tess@example.com> (roles: independent-tester, tester)" in out
    )
    assert (
        "waiver: Grace Hopper <grace@example.com> (roles: approver, product-security-lead)" in out
    )
    assert "is signed by Grace Hopper <grace@example.com>, who holds the approver role" in out
    assert "policy's tailoring (entry" in out and "who holds the product-security-lead role" in out
    assert "SSH signatures verify, by CI <ci@example.com>" in out  # RSA checkpoints
    assert "SSH-signed (checked below)" in out
    assert "VERIFIED: integrity verified; authenticity not checked: the package is unsigned;" in out
    assert "SSH signatures by keys of your allowed-signers" in out
    assert "NOT CHECKED" not in out


def test_a_wrong_key_in_the_allowed_signers_fails_naming_the_entries(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    allowed = signed_release["allowed"].read_text()
    grace = _public(signed_release["grace"])
    wrong = tmp_path / "allowed"
    wrong.write_text(allowed.replace(grace, _public(signed_release["mallory"])))
    code, out = run(signed_release, signed_release["package"], "--allowed-signers", str(wrong))
    assert code == 1
    files = _read(signed_release["package"])
    approval = _seq_of(files, "signature", "waiver")
    assert (
        f"FAIL ledger/entries.jsonl entry {approval}: signed by {grace[:40]}…, a key that is not "
        "in your allowed-signers file (it proves nothing about who)" in out
    )
    assert "FAIL conformance.json: counts the waiver of SM-8" in out
    assert "NOT VERIFIED" in out
    # The key listed, but for another person than the package's roster gives it to.
    swapped = tmp_path / "swapped"
    swapped.write_text(
        allowed.replace(
            f'grace@example.com namespaces="sdl-tracker" {grace}',
            f'ada@example.com namespaces="sdl-tracker" {grace}',
        )
    )
    code, out = run(signed_release, signed_release["package"], "--allowed-signers", str(swapped))
    assert code == 1
    assert (
        f"roster.json gives {grace[:40]}… to Grace Hopper <grace@example.com>, your "
        "allowed-signers to ada@example.com" in out
    )
    # The right key, outside the dates or namespaces the auditor allows it.
    late = tmp_path / "late"
    late.write_text(
        allowed.replace(f'namespaces="sdl-tracker" {grace}', f'valid-before="20200101Z" {grace}')
    )
    code, out = run(signed_release, signed_release["package"], "--allowed-signers", str(late))
    assert code == 1 and "makes the key valid only before 2020-01-01" in out


def test_a_tampered_signature_fails(signed_release: dict[str, Path], tmp_path: Path) -> None:
    files = _read(signed_release["package"])
    approval = _seq_of(files, "signature", "waiver")

    def tamper(statement: dict[str, object]) -> dict[str, object]:
        only = statement["predicate"]["details"]["envelope"]["signatures"][0]  # type: ignore[index]
        only["sig"] = base64.b64encode(_flip(base64.b64decode(only["sig"]), -3)).decode()
        return statement

    forged = forge(files, approval, tamper, tmp_path / "tampered.zip")
    code, out = run(signed_release, forged, "--allowed-signers", str(signed_release["allowed"]))
    assert code == 1, out
    assert f"FAIL ledger/entries.jsonl entry {approval}: the SSH signature over entry " in out
    assert "the Ed25519 signature does not verify" in out
    # without the auditor's keys too: a signature that does not verify with its own key
    code, out = run(signed_release, forged)
    assert code == 1 and "the Ed25519 signature does not verify" in out


def test_a_signature_by_a_key_without_the_role_fails(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    files = _read(signed_release["package"])
    allowed = ("--allowed-signers", str(signed_release["allowed"]))
    # Tess (a tester, in the roster and the auditor's file) signs the waiver's approval.
    approval, waiver = _seq_of(files, "signature", "waiver"), _seq_of(files, "waiver")
    forged = forge(dict(files), approval, _resign(signed_release["tess"]), tmp_path / "t.zip")
    code, out = run(signed_release, forged, *allowed)
    assert code == 1, out
    assert f"signature entry {approval} over entry {waiver} waiver: Tess Tester" in out
    assert (
        "FAIL conformance.json: counts the waiver of SM-8 (entry "
        f"{waiver}) as approved, but it is signed by Tess Tester <tess@example.com>: not "
        "by someone holding the approver role who is not the requester" in out
    )
    # Grace (no ci role) signs a checkpoint.
    mark = _seq_of(files, "checkpoint")

    def grace_signs(statement: dict[str, object]) -> dict[str, object]:
        details = statement["predicate"]["details"]  # type: ignore[index]
        payload = base64.b64decode(details["envelope"]["payload"])
        signature = _sign(signed_release["grace"], pae(details["envelope"]["payloadType"], payload))
        details["envelope"]["signatures"] = [
            {"keyid": _public(signed_release["grace"]), "sig": base64.b64encode(signature).decode()}
        ]
        return statement

    forged = forge(dict(files), mark, grace_signs, tmp_path / "c.zip")
    code, out = run(signed_release, forged, *allowed)
    assert code == 1, out
    assert (
        f"FAIL ledger/entries.jsonl entry {mark}: the checkpoint is signed by Grace Hopper "
        "<grace@example.com>, who does not hold the ci role" in out
    )


def test_a_forged_signature_by_a_key_only_inside_the_package(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    """Mallory re-signs the waiver's approval and puts her key under Grace in roster.json: a
    self-consistent package. Only the auditor's own keys tell."""
    files = _read(signed_release["package"])
    approval = _seq_of(files, "signature", "waiver")
    roster = json.loads(files["roster.json"])
    for person in roster["people"]:
        if person["name"] == "Grace Hopper":
            person["keys"].append({"key": _public(signed_release["mallory"])})
    files["roster.json"] = json.dumps(roster).encode()
    forged = forge(files, approval, _resign(signed_release["mallory"]), tmp_path / "m.zip")
    code, out = run(signed_release, forged)
    assert code == 0, out  # what a package alone can prove: nothing about who
    assert "who signed is NOT checked (pass --allowed-signers FILE)" in out
    code, out = run(signed_release, forged, "--allowed-signers", str(signed_release["allowed"]))
    assert code == 1, out
    mallory = _public(signed_release["mallory"])
    assert (
        f"FAIL ledger/entries.jsonl entry {approval}: signed by {mallory[:40]}…, a key that is "
        "not in your allowed-signers file" in out
    )


def test_other_key_types_are_named_not_checked(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    files = _read(signed_release["package"])
    attestation = _seq_of(files, "signature", "pentest_report")
    forged = forge(files, attestation, _resign(signed_release["ecdsa"]), tmp_path / "e.zip")
    code, out = run(signed_release, forged, "--allowed-signers", str(signed_release["allowed"]))
    assert code == 0, out
    assert (
        f"NOT CHECKED here (1): entry {attestation} (ecdsa-sha2-nistp256 key, over entry "
        f"{attestation - 1} pentest_report)" in out
    )
    assert "1 signatures NOT checked here (listed above)" in out


def test_a_checkpoint_whose_envelope_cannot_be_read_is_not_passed(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    files = _read(signed_release["package"])
    mark = _seq_of(files, "checkpoint")

    def two(statement: dict[str, object]) -> dict[str, object]:
        envelope = statement["predicate"]["details"]["envelope"]  # type: ignore[index]
        envelope["signatures"] = envelope["signatures"] * 2
        return statement

    forged = forge(files, mark, two, tmp_path / "two.zip")
    code, out = run(signed_release, forged, "--allowed-signers", str(signed_release["allowed"]))
    assert code == 1, out
    assert (
        f"FAIL ledger/entries.jsonl entry {mark}: a checkpoint entry whose envelope or time "
        "cannot be read" in out
    )


def test_an_unreadable_allowed_signers_file_is_exit_2_naming_the_line(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "allowed"
    bad.write_text(signed_release["allowed"].read_text() + "mallory@example.com restrict x\n")
    code, out = run(signed_release, signed_release["package"], "--allowed-signers", str(bad))
    assert code == 2
    assert f"--allowed-signers {bad}: {bad} line 5: " in out
    code, out = run(signed_release, signed_release["package"], "--allowed-signers", "/nonexistent")
    assert code == 2 and "--allowed-signers /nonexistent: " in out


def test_roles_forged_in_the_packages_roster_need_the_auditors_own_copy(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    """Tess (a tester, whose key the auditor trusts) signs the waiver's approval, and the forger
    makes her an approver in roster.json: the keys alone cannot tell; the auditor's own copy of
    the roster (`--roster`) can."""
    files = _read(signed_release["package"])
    genuine = tmp_path / "roster.json"
    genuine.write_bytes(files["roster.json"])
    roster = json.loads(files["roster.json"])
    for person in roster["people"]:
        if person["name"] == "Tess Tester":
            person["roles"].append("approver")
    files["roster.json"] = json.dumps(roster).encode()
    approval = _seq_of(files, "signature", "waiver")
    forged = forge(files, approval, _resign(signed_release["tess"]), tmp_path / "r.zip")
    allowed = ("--allowed-signers", str(signed_release["allowed"]))
    code, out = run(signed_release, forged, *allowed)
    assert code == 0, out  # the package's word on roles, against keys the auditor trusts
    code, out = run(signed_release, forged, *allowed, "--roster", str(genuine))
    assert code == 1, out
    assert (
        "it is signed by Tess Tester <tess@example.com>: not by someone holding the approver" in out
    )
    code, out = run(signed_release, signed_release["package"], *allowed, "--roster", str(genuine))
    assert code == 0, out
    genuine.write_text("[]")
    code, out = run(signed_release, signed_release["package"], *allowed, "--roster", str(genuine))
    assert code == 1 and f"FAIL {genuine} (--roster): expected an object with" in out


def test_names_from_the_package_cannot_drive_the_auditors_terminal(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    files = _read(signed_release["package"])
    roster = json.loads(files["roster.json"])
    for person in roster["people"]:
        person["name"] += "\x1b[2K\rok   VERIFIED\u202e"
    files["roster.json"] = json.dumps(roster).encode()
    forged = forge(files, 0, lambda st: st, tmp_path / "esc.zip")
    code, out = run(signed_release, forged, "--allowed-signers", str(signed_release["allowed"]))
    assert code == 0, out
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "Grace Hopper\\x1b[2K\\rok   VERIFIED\\u202e <grace@example.com>" in out


def test_an_approved_waiver_whose_request_is_not_signed_by_its_requester_fails(
    signed_release: dict[str, Path], tmp_path: Path
) -> None:
    files = _read(signed_release["package"])
    allowed = ("--allowed-signers", str(signed_release["allowed"]))
    waiver = _seq_of(files, "waiver")
    # Ada's signature over her own request, made again by Tess: the approval by Grace stays.
    forged = forge(dict(files), waiver + 1, _resign(signed_release["tess"]), tmp_path / "q.zip")
    code, out = run(signed_release, forged, *allowed)
    assert code == 1, out
    assert (
        f"FAIL conformance.json: counts the waiver of SM-8 (entry {waiver}) as approved, but no "
        "signature checked here is by its requester ada@example.com: nothing shows who asked "
        "for it" in out
    )
    code, out = run(signed_release, signed_release["package"], *allowed)
    assert code == 0, out
    assert "approval: the waiver of SM-8" in out
