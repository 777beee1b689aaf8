"""The one bounded reader per format: every file from outside goes through here.

A hostile input must not stall, exhaust or crash the tool: each read is limited in size (per
kind of input), nesting depth and — for YAML — nodes after alias expansion (a "billion laughs"
document is refused while it is composed, long before anything walks it). A breach is a
`LimitError` (exit 2) naming the file and the limit, and the `[limits]` config key that raises it.

The limits of the repository being worked on are set once, when its configuration is loaded
(`config.load` calls `use`); until then the defaults apply.
"""

from __future__ import annotations

import gc
import json
import os
import stat
import sys
from itertools import compress
from pathlib import Path
from typing import Any

from sdl_tracker.errors import InputError
from sdl_tracker.formats.limits import (
    DEPTH,
    SIZES,
    YAML_NODES,
    LimitError,
    Limits,
    MiB,
    breach,
    check,
    current,
    too_big,
    too_deep,
    use,
)

__all__ = [
    "DEPTH",
    "SIZES",
    "YAML_NODES",
    "LimitError",
    "Limits",
    "MiB",
    "breach",
    "check",
    "current",
    "json_loads",
    "read",
    "size",
    "too_big",
    "too_deep",
    "toml_loads",
    "use",
    "xml_check",
    "yaml_compose",
    "yaml_document",
    "yaml_load",
]

# ---- bytes --------------------------------------------------------------------------------


def read(path: Path, kind: str, name: str | None = None) -> bytes:
    """The bytes of a regular file, at most the size limit of `kind`; InputError otherwise.

    Devices, FIFOs, sockets and directories are refused without blocking on them.
    """
    shown = name or str(path)
    limit = current().size(kind)
    try:
        _regular(os.stat(path).st_mode, shown)  # a socket cannot even be opened
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(f"{shown}: cannot read: {e.strerror or e}") from e
    try:
        info = os.fstat(fd)  # what was opened, even if the path changed meanwhile
        _regular(info.st_mode, shown)
        if info.st_size > limit:
            raise too_big(shown, kind, info.st_size, limit)
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(f"{shown}: cannot read: {e.strerror or e}") from e
    finally:
        os.close(fd)
    if len(data) > limit:  # the file grew while we read it
        raise too_big(shown, kind, len(data), limit)
    return data


def size(path: Path, kind: str, name: str | None = None) -> int:
    """The size of a regular file within the size limit of `kind`, for a reader that streams
    it (nothing is read here); InputError otherwise, without blocking on a FIFO or device."""
    shown = name or str(path)
    limit = current().size(kind)
    try:
        _regular(os.stat(path).st_mode, shown)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(f"{shown}: cannot read: {e.strerror or e}") from e
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    _regular(info.st_mode, shown)
    if info.st_size > limit:
        raise too_big(shown, kind, info.st_size, limit)
    return info.st_size


def _regular(mode: int, shown: str) -> None:
    if not stat.S_ISREG(mode):
        raise InputError(f"{shown}: not a regular file ({kind_of(mode)})")


def kind_of(mode: int) -> str:
    """`a directory`, `a FIFO`, ... for a stat mode that is not a regular file."""
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return what
    return "not a regular file"


# ---- JSON ---------------------------------------------------------------------------------


def json_loads(data: bytes | str, name: str, kind: str) -> Any:
    """JSON within the size and depth limits. json.JSONDecodeError passes through (each reader
    words its own syntax error), breaches raise LimitError."""
    check(data, name, kind)
    depth = current().depth
    # The cyclic garbage collector would scan the new containers again and again while they
    # are built and walked (JSON makes no cycles): without it, parse and walk together cost
    # less than the parse alone with it (benchmarks/bounded.py).
    collecting = gc.isenabled()
    gc.disable()
    try:
        value = json.loads(data)
        deep = not _within(value, depth)
    except RecursionError as e:  # `json` stops at Python's recursion limit, ~1000 levels
        raise too_deep(name, depth) from e
    finally:
        if collecting:
            gc.enable()
    if deep:
        raise too_deep(name, depth)
    return value


def check_depth(value: Any, name: str) -> None:
    """Refuse a parsed JSON value nested deeper than the depth limit."""
    if not _within(value, current().depth):
        raise too_deep(name, current().depth)


_IS_CONTAINER = frozenset((dict, list)).__contains__


def _within(value: Any, limit: int) -> bool:
    """Is every container of `value` at most `limit` levels deep? Level by level, without
    recursion, the filtering done by C iterators: the walk costs a fraction of the parse."""
    level = [value] if _IS_CONTAINER(type(value)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below.extend(compress(children, map(_IS_CONTAINER, map(type, children))))
        level = below
    return True


# ---- YAML (the composer that counts is in yamlcount.py, imported when YAML is read) ------


def yaml_compose(text: str, name: str, kind: str, base: type[Any] | None = None) -> Any:
    """The root node of a YAML document (None when empty), within the limits of `kind`;
    `base` is the pure-Python loader class (default `yaml.SafeLoader`). yaml.YAMLError passes
    through; breaches raise LimitError."""
    from sdl_tracker.formats import yamlcount

    return yamlcount.document(text, name, kind, base, construct=False)[0]


def yaml_load(text: str, name: str, kind: str, base: type[Any] | None = None) -> Any:
    """The Python value of a YAML document, within the limits of `kind`."""
    return yaml_document(text, name, kind, base)[1]


def yaml_document(
    text: str, name: str, kind: str, base: type[Any] | None = None
) -> tuple[Any, Any]:
    """(root node, Python value) of a YAML document, within the limits of `kind`."""
    from sdl_tracker.formats import yamlcount

    return yamlcount.document(text, name, kind, base, construct=True)


# ---- XML ----------------------------------------------------------------------------------


def xml_check(data: bytes | str, name: str, kind: str) -> None:
    """Refuse an XML document over the size limit of `kind`, nested deeper than the depth
    limit, or with a DTD (entity expansion, external entities: no format we read needs one).
    Malformed XML passes: the reader reports it in its own words."""
    from xml.parsers import expat

    check(data, name, kind)
    limit = current().depth
    parser = expat.ParserCreate()
    depth = 0

    def start(*_: object) -> None:
        nonlocal depth
        depth += 1
        if depth > limit:
            raise too_deep(f"{name}:{parser.CurrentLineNumber}", limit)

    def end(*_: object) -> None:
        nonlocal depth
        depth -= 1

    def no_dtd(*_: object) -> None:
        raise LimitError(
            f"{name}:{parser.CurrentLineNumber}: the document has a DTD (<!DOCTYPE ...>); "
            "sdl-tracker refuses DTDs in the XML it reads (entity expansion attacks)"
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    try:
        parser.Parse(data.encode() if isinstance(data, str) else data, True)
    except expat.ExpatError:
        return


# ---- TOML ---------------------------------------------------------------------------------


def toml_loads(text: str, name: str) -> dict[str, Any]:
    """`tomllib.loads` that turns a stack-exhausting nested array into a LimitError."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except RecursionError as e:
        raise too_deep(name, current().depth) from e
