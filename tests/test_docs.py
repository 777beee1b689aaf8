"""The manual builds: `mkdocs build --strict` on mkdocs.yml, with the real MkDocs and theme, so a
broken link, a missing anchor or a page left out of the navigation fails the tests."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        reason = "mkdocs is not installed: pip install -e '.[test]' (or '.[docs]')"
        if os.environ.get("CI") == "true":  # CI installs the test extra: never skip there
            pytest.fail(reason)
        pytest.skip(reason)
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert (site / "index.html").is_file()
    assert (site / "collectors" / "threat-model" / "index.html").is_file()
    assert (site / "ci" / "github-actions.yml").is_file()  # the templates are published too


def test_the_readme_links_into_the_manual() -> None:
    """The README is not part of the site, so the strict build does not check its links."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert "docs/getting-started.md" in local and "docs/commands/index.md" in local
    assert [t for t in local if not (ROOT / t).exists()] == []
