"""A cache of what sdl-commit-msg needs from a valid configuration, in the git directory.

Reading `.sdl-tracker.toml` costs `tomllib`, `sdl_tracker.config`, `dataclasses` and pathlib:
more than the rest of the hook (benchmarks/hooks.py). Once the configuration has been read and
validated, the hook keeps its outcome (the `[hooks] security_critical_paths`, and whether
`[collectors.threat-model]` keeps the default model places) in `<git dir>/sdl-tracker/`, and
later commits use it only when everything that decided that outcome is the same:

- the configuration file's name and its exact bytes, kept in the cache and compared byte for
  byte (no size or time stamp, which can match after an edit);
- the sdl-tracker version, the Python version, and a checksum of the source of the modules that
  read and validate the configuration (so a changed check is applied at once).

Only a valid configuration is kept: an invalid one is read (and its error shown) every time. A
cache that is missing, unreadable, not a regular file, a symbolic link, too large, or not exactly
in this format is ignored and written again; failing to write it (a read-only `.git`) is not an
error. The cache is as trusted as `.git/hooks` itself, which anyone able to write it could
change anyway.

The format is length-prefixed fields (`<decimal length>:<bytes>`), read with `bytes`
operations only: importing `json` would cost a tenth of the interpreter's start-up.
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

NAME = "commit-msg-settings"
"""The cache's file name, next to the hooks' marker in `<git dir>/sdl-tracker/`."""
CONFIG_FILES = (".sdl-tracker.toml", "pyproject.toml")  # config.CONFIG_FILE first, as config.find
_MAGIC = b"sdl-tracker commit-msg settings 1"
_MAX_CONFIG = 256 * 1024  # larger configurations are read every time (the limit is 1 MiB)
_MAX_CACHE = 2 * _MAX_CONFIG
# The modules whose code decides the cached outcome, relative to the sdl_tracker package.
_SOURCES = (
    "__init__.py",
    "config.py",
    "errors.py",
    "formats/bounded.py",
    "formats/threatmodel_paths.py",
    "hooks/_base.py",
    "hooks/_records.py",
    "hooks/_settings_cache.py",
    "hooks/commit_msg.py",
    "hooks/threat_model.py",
)


def config_file(root: str) -> tuple[str, bytes] | None:
    """The configuration file `config.find` reads under `root` (its name and bytes); None when
    there is none, or it cannot be read here or is too large to cache (the uncached path then
    reports what is wrong)."""
    for name in CONFIG_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            try:
                with open(path, "rb") as f:
                    data = f.read(_MAX_CONFIG + 1)
            except OSError:
                return None
            return None if len(data) > _MAX_CONFIG else (name, data)
    return None


def _key() -> bytes | None:
    """What must not change for a cached outcome to hold: versions and the validating code."""
    import zlib

    from sdl_tracker import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checksum = 0
    for name in _SOURCES:
        try:
            with open(os.path.join(package, *name.split("/")), "rb") as f:
                checksum = zlib.crc32(f.read(), checksum)
        except OSError:  # not installed as plain files: no cache
            return None
    return f"{__version__} {sys.version} {len(_SOURCES)} {checksum:08x}".encode()


def lookup(cache: str, name: str, data: bytes) -> tuple[tuple[str, ...], bool] | None:
    """(security-critical paths, default threat-model places) kept for the configuration file
    `name` with exactly `data`; None when the cache does not hold exactly that."""
    key = _key()
    raw = _read(cache)
    fields = _fields(raw) if key is not None and raw is not None else None
    if fields is None or len(fields) < 5 or fields[:3] != [_MAGIC, key, name.encode()]:
        return None
    if fields[3] != data or fields[4] not in (b"0", b"1"):
        return None
    try:
        paths = tuple(f.decode("utf-8") for f in fields[5:])
    except UnicodeDecodeError:
        return None
    if not all(paths):
        return None
    return paths, fields[4] == b"1"


def store(cache: str, name: str, data: bytes, paths: Sequence[str], default_model: bool) -> None:
    """Keep the outcome of validating `data` (best effort: any failure leaves no cache)."""
    key = _key()
    if key is None or len(data) > _MAX_CONFIG:
        return
    fields = [_MAGIC, key, name.encode(), data, b"1" if default_model else b"0"]
    fields.extend(p.encode("utf-8") for p in paths)
    content = b"".join(b"%d:%s" % (len(f), f) for f in fields)
    if len(content) > _MAX_CACHE:
        return
    partial = f"{cache}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(partial, flags, 0o644)
        with open(fd, "wb") as f:
            f.write(content)
        os.replace(partial, cache)  # replaces a link itself, never what it points to
    except OSError:
        try:
            os.unlink(partial)
        except OSError:
            pass


def _read(cache: str) -> bytes | None:
    """The cache's bytes when it is a regular file (not a link, FIFO or device) of a sane size."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(cache, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_CACHE:
            return None
        data = os.read(fd, _MAX_CACHE + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) == info.st_size else None  # changed while read: not used


def _fields(raw: bytes) -> list[bytes] | None:
    """The length-prefixed fields of `raw`, None unless all of it is exactly such fields."""
    fields = []
    at = 0
    while at < len(raw):
        colon = raw.find(b":", at, at + 8)
        digits = raw[at:colon]
        if colon < 0 or not digits.isdigit() or (digits != b"0" and digits.startswith(b"0")):
            return None
        end = colon + 1 + int(digits)
        if end > len(raw):
            return None
        fields.append(raw[colon + 1 : end])
        at = end
    return fields
