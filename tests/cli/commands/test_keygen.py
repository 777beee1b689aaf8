from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from sdl_tracker.cli.main import main


def test_keygen_writes_a_private_key_only_its_owner_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "signing-key"
    assert main(["keygen", "--out", str(key)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {key} (private, mode 0600" in err and f"wrote {key}.pub (public" in err
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    private = load_pem_private_key(key.read_bytes(), password=None)
    public = load_pem_public_key((tmp_path / "signing-key.pub").read_bytes())
    assert isinstance(private, Ed25519PrivateKey) and isinstance(public, Ed25519PublicKey)
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    public.verify(private.sign(b"m"), b"m")


@pytest.mark.parametrize("existing", ["signing-key", "signing-key.pub"])
def test_keygen_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: str
) -> None:
    (tmp_path / existing).write_text("precious\n")
    assert main(["keygen", "--out", str(tmp_path / "signing-key")]) == 2
    assert f"{tmp_path / existing} exists: keygen never overwrites a key" in capsys.readouterr().err
    assert (tmp_path / existing).read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]


def test_keygen_into_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keygen", "--out", str(tmp_path / "no" / "key")]) == 2
    assert "cannot create" in capsys.readouterr().err
