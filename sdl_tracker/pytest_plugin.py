"""pytest plugin (entry point `pytest11`): link tests to security requirements, threats and
security issues, and mark fuzz and resource-exhaustion tests.

    @pytest.mark.security_requirement("SR-3.1")
    @pytest.mark.mitigates("T-004", "T-007")
    @pytest.mark.fixes("SEC-2026-001")
    def test_rejects_unsigned_image(): ...

    @pytest.mark.fuzz("config parser")              # e.g. a hypothesis @given test
    @pytest.mark.resource_exhaustion("upload endpoint")

Each id becomes a test-case property in the JUnit XML (`pytest --junitxml=...`):
`<property name="security_requirement" value="SR-3.1"/>`, which `sdl-tracker collect --only
tests` reads. The plugin loads in every pytest run of every project that installs
sdl-tracker, so it imports nothing beyond pytest itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence

MARKERS = {
    "security_requirement": (
        "security_requirement(*ids): the test verifies these security requirement ids "
        "(e.g. 'SR-3.1'); written to the JUnit XML for sdl-tracker"
    ),
    "mitigates": (
        "mitigates(*ids): the test verifies the mitigation of these threat ids "
        "(e.g. 'T-004'); written to the JUnit XML for sdl-tracker"
    ),
    "fixes": (
        "fixes(*ids): the test verifies the fix of these security issues (e.g. 'SEC-2026-001', "
        "or a CVE alias); written to the JUnit XML for sdl-tracker"
    ),
    "fuzz": (
        "fuzz(*interfaces): a fuzz or property-based test feeding generated, malformed input to "
        "these interfaces (e.g. 'config parser'); written to the JUnit XML for sdl-tracker"
    ),
    "resource_exhaustion": (
        "resource_exhaustion(*interfaces): the test drives these interfaces towards resource "
        "exhaustion (e.g. 'upload endpoint'); written to the JUnit XML for sdl-tracker"
    ),
}
_EXAMPLES = {
    "security_requirement": "SR-3.1",
    "mitigates": "T-004",
    "fixes": "SEC-2026-001",
    "fuzz": "config parser",
    "resource_exhaustion": "upload endpoint",
}


def pytest_configure(config: pytest.Config) -> None:
    for help_text in MARKERS.values():
        config.addinivalue_line("markers", help_text)


def pytest_collection_modifyitems(items: Sequence[pytest.Item]) -> None:
    for item in items:
        for name in MARKERS:
            for marker in item.iter_markers(name):
                ids = marker.args
                if not ids or not all(isinstance(i, str) and i.strip() for i in ids):
                    example = _EXAMPLES[name]
                    raise pytest.UsageError(
                        f"{item.nodeid}: @pytest.mark.{name} needs one or more ids as strings, "
                        f"e.g. @pytest.mark.{name}({example!r}); got {marker.args!r}"
                    )
                for value in ids:
                    prop = (name, value.strip())
                    if prop not in item.user_properties:
                        item.user_properties.append(prop)
