"""`sdl-tracker keygen --out signing-key`: an Ed25519 key pair for signing evidence packages.

Writes `signing-key` (PEM PKCS#8 private key, mode 0600) and `signing-key.pub` (PEM public key,
what the auditor receives). Never overwrites: an existing file is an error and nothing is
written.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

NAME = "keygen"
HELP = "make an Ed25519 key pair for signing evidence packages"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="private key file (mode 0600); the public key goes to PATH.pub",
    )
    options.terminal(parser)


def main(args: argparse.Namespace) -> int:
    return run(out=args.out)


def run(*, out: Path) -> int:
    from sdl_tracker.exporters import dsse

    public = out.with_name(out.name + ".pub")
    for path in (out, public):
        if path.exists() or path.is_symlink():
            raise InputError(
                f"{path} exists: keygen never overwrites a key; choose another --out, or "
                "remove the old pair if you really mean to replace it"
            )
    private_pem, public_pem, keyid = dsse.generate()
    _create(out, private_pem, 0o600)
    try:
        _create(public, public_pem, 0o644)
    except InputError:
        out.unlink()
        raise
    output.err(f"wrote {out} (private, mode 0600: keep it secret, e.g. in your CI's secrets)")
    output.err(f"wrote {public} (public: give it to the auditor); key id {keyid}")
    output.err(f"sign a package with: sdl-tracker export --release TAG --sign {out} --out FILE")
    return 0


def _create(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start (O_EXCL: never replaces a file)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as e:
        raise InputError(f"--out {path}: cannot create ({e.strerror}); give a writable path") from e
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # the umask may have cleared bits of `mode`
