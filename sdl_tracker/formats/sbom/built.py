"""The built distributions of the product found in `dist/`: what the SBOM's subject is.

A wheel (`.whl`) or sdist (`.tar.gz`) of the project's name (and version, when pyproject states
one) in the distribution directory is hashed (SHA-256 of the file as it ships). A wheel's
`*.dist-info/METADATA` must name the same project and version, or it is a problem (a wheel of
another product, or of another version, left in `dist/`).

What this shows, honestly: for a pure-Python wheel the SBOM's subject is the file that ships (its
hash), and its components are the distributions it requires as resolved at collection time; the
wheel bundles no third-party code unless it vendors some, which is not detected here. Which
commit a file in `dist/` was built from cannot be told from the file: build it in the same job,
before `collect`.
"""

from __future__ import annotations

import email.parser
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

DIST = "dist"
_MAX_METADATA = 1024 * 1024


@dataclass(frozen=True)
class Built:
    path: str
    """Repository-relative path, e.g. `dist/acme_plc-1.4.0-py3-none-any.whl`."""
    sha256: str
    wheel: bool


def find(root: Path, directory: str, name: str, version: str | None) -> list[Built]:
    """The project's built files in `root/directory`, wheels first, sorted by name."""
    base = root / directory
    if not base.is_dir():
        return []
    prefix = canonicalize_name(name).replace("-", "_")
    found = []
    for path in sorted(base.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        stem = path.name.removesuffix(".whl").removesuffix(".tar.gz")
        if stem == path.name:
            continue
        dist, _, rest = stem.partition("-")
        built_version = rest.split("-", 1)[0]
        if canonicalize_name(dist).replace("-", "_") != prefix:
            continue
        if version is not None and built_version != version:
            continue
        found.append(Built(f"{directory}/{path.name}", _sha256(path), path.suffix == ".whl"))
    return sorted(found, key=lambda b: (not b.wheel, b.path))


def problems(root: Path, built: list[Built], name: str, version: str | None) -> list[str]:
    """Why a wheel does not describe itself as the project (name, version), one line each."""
    found = []
    for b in built:
        if not b.wheel:
            continue
        meta = _metadata(root / b.path)
        if isinstance(meta, str):
            found.append(f"{b.path}: {meta}")
            continue
        got_name, got_version = meta
        if canonicalize_name(got_name) != canonicalize_name(name):
            found.append(f"{b.path}: its METADATA names {got_name!r}, not {name!r}")
        elif version is not None and got_version != version:
            found.append(f"{b.path}: its METADATA says version {got_version}, not {version}")
    return found


def _metadata(path: Path) -> tuple[str, str] | str:
    try:
        with zipfile.ZipFile(path) as z:
            names = [
                n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                return "not a wheel: no single *.dist-info/METADATA"
            if z.getinfo(names[0]).file_size > _MAX_METADATA:
                return "METADATA larger than 1 MiB"
            text = z.read(names[0]).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, OSError) as e:
        return f"not a readable wheel ({e})"
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    return str(msg.get("Name", "")), str(msg.get("Version", ""))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
