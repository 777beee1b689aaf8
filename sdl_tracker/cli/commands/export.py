"""`sdl-tracker export`: the auditor's evidence package for a release, or one of its views.

`--format zip` (the default) needs `--release`: a deterministic zip judged as the release's gate
judged it (see `sdl_tracker.exporters.release`). `html`, `oscal`, `sarif` and `json` write one
view; without `--release` they show HEAD now. The ledger is verified first: nothing is exported
from a chain that does not verify (exit 1). Nothing is written to the ledger.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sdl_tracker import output
from sdl_tracker.cli import options
from sdl_tracker.errors import InputError

if TYPE_CHECKING:
    from sdl_tracker.exporters.source import Source
    from sdl_tracker.workspace import Workspace

FORMATS = ("zip", "html", "oscal", "sarif", "json")


NAME = "export"
HELP = "the auditor's self-verifying evidence package of a release (zip), or one view"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", metavar="TAG", help="the release tag (required for the zip)")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help="the file to write (- for stdout)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="zip",
        help="zip: the whole package (default); html, oscal, sarif, json: one view",
    )
    options.sign(parser, "sign the package with this Ed25519 private key from `keygen`")
    options.policy(parser)
    options.framework(parser)
    options.common(parser)


def main(args: argparse.Namespace) -> int:
    return run(
        ws=options.workspace(args),
        release=args.release,
        out=args.out,
        fmt=args.format,
        sign=args.sign,
        policy_file=args.policy,
        framework=args.framework,
    )


def run(
    *,
    ws: Workspace,
    release: str | None,
    out: Path,
    fmt: str = "zip",
    sign: Path | None = None,
    policy_file: Path | None = None,
    now: datetime | None = None,
    framework: str = "iec62443-4-1",
) -> int:
    from sdl_tracker.exporters import package
    from sdl_tracker.exporters import release as release_mod
    from sdl_tracker.exporters.dsse import load_signer

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "zip" and release is None:
        raise InputError(
            "the evidence package is made per release: give --release TAG (a git tag), or "
            "--format html|oscal|sarif|json for a single view of HEAD"
        )
    if sign is not None and fmt != "zip":
        output.err(f"note: --sign applies to the zip package; the {fmt} view is not signed")
        sign = None
    signer = load_signer(sign) if sign is not None else None
    source = release_mod.gather(
        ws,
        release=release,
        policy_file=policy_file,
        now=now or datetime.now(timezone.utc),
        framework=framework,
    )
    files = package.contents(source, signer) if fmt == "zip" else {}
    data = package.archive(files) if fmt == "zip" else _view(fmt)(source).encode()
    _write(out, data)
    for note in source.notes:
        output.err(f"note: {note}")
    if source.gate is not None and source.gate.differences:
        output.err(
            f"note: re-evaluation differs from the gate verdict (entry {source.gate.seq}) for "
            f"{len(source.gate.differences)} requirements (another policy?): "
            + "; ".join(source.gate.differences[:3])
        )
    conf = source.conformance
    what = f"release {conf.release}" if conf.release else f"commit {conf.commit[:12]}"
    where = "stdout" if str(out) == "-" else str(out)
    if fmt != "zip":
        output.err(f"exported {fmt} of {what} to {where}")
        return 0
    output.err(
        f"exported the evidence package of {what} to {where}: {len(files)} files, "
        f"{len(source.entries)} ledger entries, {len(source.objects)} artifacts, "
        + (f"signed (keyid {signer.keyid[:16]}…)" if signer else "unsigned")
    )
    key = f" --public-key {sign}.pub" if sign is not None else ""
    output.err(f"check it with: python -I verify.py {where}{key}   (verify.py is inside the zip)")
    return 0


def _view(fmt: str) -> Callable[[Source], str]:
    from sdl_tracker.exporters import html, oscal, sarif
    from sdl_tracker.exporters import json as json_view

    views: dict[str, Callable[[Source], str]] = {
        "html": html.view,
        "oscal": oscal.view,
        "sarif": sarif.view,
        "json": json_view.view,
    }
    return views[fmt]


def _write(out: Path, data: bytes) -> None:
    """Write `data` whole or not at all (a temporary file renamed over `out`); `-` is stdout."""
    if str(out) == "-":
        output.write_bytes(data)
        return
    directory = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    except OSError as e:
        raise InputError(
            f"--out {out}: cannot write there ({e.strerror}); give a writable path"
        ) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"--out {out}: cannot write ({e.strerror}); give a writable path") from e
