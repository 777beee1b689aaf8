"""secrets: private keys and credentials in the tracked files, found by detect-secrets.

Scans every file tracked at the commit with detect-secrets' plugins, honouring a
`.secrets.baseline` (secrets listed there are known, not findings). Only `path:line: type` ever
leaves this module: never a secret, never its hash. `scan()` is the entry point for hooks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import locale
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sdl_tracker import config as config_mod
from sdl_tracker.collectors.base import Context, Evidence

# Re-exported: hooks load the baseline and scan through this module.
from sdl_tracker.collectors.secrets import filters as known_non_secrets
from sdl_tracker.collectors.secrets.baseline import Baseline as Baseline
from sdl_tracker.collectors.secrets.baseline import load_baseline as load_baseline
from sdl_tracker.errors import InputError
from sdl_tracker.gitdata import git
from sdl_tracker.models import Result, ResultStatus, Tool

NAME = "secrets"
KIND = "secret_scan"
PROVIDES = ("SM-8",)
ARTIFACT = "secrets.json"
DEFAULT_BASELINE = ".secrets.baseline"
_KEYS = {"baseline", "max_age_hours"}
# Verifying a candidate asks the issuer's live service: never (offline), and a "verified false"
# answer would silently drop a finding.
_VERIFY_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
_BINARY_PROBE = 8000


@dataclass(frozen=True)
class Finding:
    """A secret detect-secrets found: where and what kind, never the value."""

    path: str
    line: int
    type: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.type}"


@dataclass(frozen=True)
class ScanResult:
    findings: tuple[Finding, ...]
    files_scanned: int
    baselined: int
    """Secrets found that the baseline lists (known, not findings)."""
    unreadable: tuple[str, ...] = ()
    """Text files that could not be decoded, so were not scanned."""


def scan(root: Path, filenames: Sequence[str], baseline: Baseline | None = None) -> list[Finding]:
    """Unbaselined secrets in `filenames` (relative to `root`), e.g. the files being committed."""
    return list(scan_files(root, filenames, baseline).findings)


def scan_files(root: Path, filenames: Sequence[str], baseline: Baseline | None) -> ScanResult:
    """Scan `filenames` under `root` with detect-secrets; binary and missing files are skipped."""
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import (
        default_settings,
        get_filters,
        get_plugins,
        transient_settings,
    )

    texts, unreadable = [], []
    encoding = locale.getpreferredencoding(False)
    for name in filenames:
        if baseline is not None and name == baseline.path:
            continue
        kind = _classify(root / name, encoding)
        if kind == "text":
            texts.append(name)
        elif kind == "unreadable":
            unreadable.append(name)
    settings = transient_settings(dict(baseline.settings)) if baseline else default_settings()
    where = baseline.path if baseline else "detect-secrets"
    collection = SecretsCollection()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet())
        stack.enter_context(_cwd(root))
        try:
            active = stack.enter_context(settings).disable_filters(_VERIFY_FILTER)
            # Known non-secrets (pins, digests, lock files) on top of detect-secrets' own.
            active.filters.update({path: {} for path in known_non_secrets.PATHS})
            get_filters.cache_clear()
            plugins, filters = get_plugins(), get_filters()
        except (TypeError, ValueError, KeyError, AttributeError, ImportError, OSError) as e:
            raise InputError(
                f"{where}: $.plugins_used / $.filters_used: detect-secrets cannot load them "
                f"({e!r}); regenerate the baseline with this detect-secrets version"
            ) from e
        missing = sorted(set(active.filters) - {f.path for f in filters})
        if missing:  # detect-secrets would skip them with a warning
            raise InputError(
                f"{where}: $.filters_used: detect-secrets cannot load them: {', '.join(missing)}; "
                "fix the paths or regenerate the baseline"
            )
        if not plugins:  # detect-secrets would scan nothing and report nothing
            raise InputError(
                f"{where}: $.plugins_used: no plugins, so nothing would be found; "
                "regenerate the baseline with `detect-secrets scan`"
            )
        for name in texts:
            collection.scan_file(name)
    findings, baselined = [], 0
    for filename, secret in collection:
        if baseline is not None and baseline.lists(filename, secret.type, secret.secret_hash):
            baselined += 1
            continue
        findings.append(Finding(_display(filename), int(secret.line_number), str(secret.type)))
    return ScanResult(tuple(findings), len(texts), baselined, tuple(unreadable))


def _classify(path: Path, encoding: str) -> str:
    """`text`, `binary` (NUL bytes, as git decides), `unreadable` text, or `missing`."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return "missing"
    except OSError:
        return "unreadable"
    if b"\0" in data[:_BINARY_PROBE]:
        return "binary"
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return "unreadable"
    return "text"


def _display(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    """detect-secrets resolves file names and its filters against the working directory."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """detect-secrets logs to stderr itself; library code must not print."""
    logger = logging.getLogger("detect-secrets")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def settings(ctx: Context) -> str:
    """The baseline path from `[collectors.secrets]`; ConfigError when it is wrong."""
    unknown = sorted(set(ctx.config) - _KEYS)
    if unknown:
        raise config_mod.unknown_key(ctx.root, "collectors.secrets", unknown[0], _KEYS)
    value = ctx.config.get("baseline", DEFAULT_BASELINE)
    if not isinstance(value, str) or not value:
        raise config_mod.error(
            ctx.config,
            "baseline",
            f"[collectors.secrets] baseline: expected a file path, got {value!r}",
        )
    return value


def inputs(ctx: Context) -> Mapping[str, str]:
    """The commit's root tree id and the baseline's digest."""
    baseline = ctx.root / settings(ctx)
    digest = hashlib.sha256(baseline.read_bytes()).hexdigest() if baseline.is_file() else "absent"
    trees = git.tree_ids(ctx.root, ctx.commit, ["."])
    return {"tree:.": trees["."], f"file:{settings(ctx)}": digest}


def collect(ctx: Context) -> Iterator[Evidence]:
    if ctx.from_report is not None:
        raise InputError(
            f"{ctx.from_report}: the secrets collector ingests no reports, it scans "
            "the tracked files itself; drop --from-report"
        )
    baseline = load_baseline(ctx.root, settings(ctx))
    result = _scan_commit(ctx.root, ctx.commit, baseline)
    yield _evidence(result, baseline)


def _scan_commit(root: Path, commit: str, baseline: Baseline | None) -> ScanResult:
    """Scan the files tracked at `commit`, as committed: changed files are read from git."""
    listing = git.run(root, "ls-tree", "-r", "-z", "--full-tree", commit).stdout
    files = []
    for record in filter(None, listing.split(b"\0")):
        meta, _, path = record.partition(b"\t")
        mode, kind, _ = meta.split()
        if kind == b"blob" and mode != b"120000":  # symlinks point elsewhere
            files.append(os.fsdecode(path))
    changed = set(
        map(
            os.fsdecode,
            filter(
                None,
                git.run(
                    root, "diff", "--name-only", "--no-renames", "-z", commit, "--"
                ).stdout.split(b"\0"),
            ),
        )
    )
    clean = scan_files(root, [f for f in files if f not in changed], baseline)
    committed = [f for f in files if f in changed]
    if not committed:
        return clean
    with tempfile.TemporaryDirectory(prefix="sdl-secrets-") as tmp:
        for name in committed:
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(git.run(root, "cat-file", "blob", f"{commit}:{name}").stdout)
        other = scan_files(Path(tmp), committed, baseline)
    return ScanResult(
        findings=tuple(sorted((*clean.findings, *other.findings), key=lambda f: (f.path, f.line))),
        files_scanned=clean.files_scanned + other.files_scanned,
        baselined=clean.baselined + other.baselined,
        unreadable=(*clean.unreadable, *other.unreadable),
    )


def _evidence(result: ScanResult, baseline: Baseline | None) -> Evidence:
    from detect_secrets.__version__ import VERSION

    count = len(result.findings)
    known = f"{result.baselined} baselined" if baseline else "no baseline"
    if count:
        shown = "; ".join(str(f) for f in result.findings[:3])
        more = f" (+{count - 3} more)" if count > 3 else ""
        status, summary = (
            ResultStatus.FAIL,
            (
                f"{count} unbaselined secrets in {result.files_scanned} files: {shown}{more}; "
                "remove and rotate them, or audit false positives into the baseline"
            ),
        )
    elif result.unreadable:
        status, summary = (
            ResultStatus.INCOMPLETE,
            (
                f"{len(result.unreadable)} text files could not be decoded, so were not scanned: "
                f"{', '.join(result.unreadable[:5])}; re-encode them as UTF-8, then collect again"
            ),
        )
    else:
        status = ResultStatus.PASS
        summary = f"no unbaselined secrets in {result.files_scanned} files ({known})"
    report = {
        "tool": {"name": "detect-secrets", "version": VERSION},
        "baseline": baseline.path if baseline else None,
        "files_scanned": result.files_scanned,
        "baselined": result.baselined,
        "unreadable": list(result.unreadable),
        "findings": [{"path": f.path, "line": f.line, "type": f.type} for f in result.findings],
    }
    return Evidence(
        kind=KIND,
        tool=Tool("detect-secrets", VERSION),
        requirements=PROVIDES,
        result=Result(
            status,
            summary,
            {
                "findings": count,
                "files_scanned": result.files_scanned,
                "baselined": result.baselined,
            },
        ),
        covers=(".",),
        artifacts=((ARTIFACT, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode()),),
    )
