from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from sdl_tracker.formats.junit import Outcome, parse

pytest_plugins = ["pytester"]

TESTS = """
import pytest

@pytest.mark.security_requirement("SR-3.1")
@pytest.mark.mitigates("T-001", "T-004")
def test_rejects_unsigned_image():
    pass

@pytest.mark.security_requirement("SR-1.2")
class TestServer:
    @pytest.mark.parametrize("key", ["rsa", "ecdsa"])
    def test_pinning(self, key):
        assert key == "rsa"

def test_unlinked():
    pass

@pytest.mark.fixes("SEC-2026-001", "CVE-2026-0001")
@pytest.mark.fuzz("config parser")
@pytest.mark.resource_exhaustion("upload endpoint")
def test_fix_fuzz_and_exhaustion():
    pass
"""


def _properties(xml: bytes) -> dict[str, list[tuple[str, str]]]:
    root = ET.fromstring(xml)
    return {
        f"{case.get('classname')}::{case.get('name')}": [
            (p.get("name", ""), p.get("value", "")) for p in case.iter("property")
        ]
        for case in root.iter("testcase")
    }


def test_markers_become_junit_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=TESTS)
    result = pytester.runpytest(
        "--strict-markers", "--junitxml=junit.xml", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=4, failed=1)
    xml = (pytester.path / "junit.xml").read_bytes()
    assert _properties(xml) == {
        "test_agent::test_rejects_unsigned_image": [
            ("security_requirement", "SR-3.1"),
            ("mitigates", "T-001"),
            ("mitigates", "T-004"),
        ],
        "test_agent.TestServer::test_pinning[rsa]": [("security_requirement", "SR-1.2")],
        "test_agent.TestServer::test_pinning[ecdsa]": [("security_requirement", "SR-1.2")],
        "test_agent::test_unlinked": [],
        "test_agent::test_fix_fuzz_and_exhaustion": [
            ("fixes", "SEC-2026-001"),
            ("fixes", "CVE-2026-0001"),
            ("fuzz", "config parser"),
            ("resource_exhaustion", "upload endpoint"),
        ],
    }
    assert b'<property name="security_requirement" value="SR-3.1" />' in xml
    # What the tests collector reads back from the same file.
    cases = {c.id: c for c in parse("junit.xml", xml)}
    assert cases["test_agent::test_rejects_unsigned_image"].threats == ("T-001", "T-004")
    assert cases["test_agent.TestServer::test_pinning[ecdsa]"].outcome is Outcome.FAILED
    marked = cases["test_agent::test_fix_fuzz_and_exhaustion"]
    assert marked.fixes == ("SEC-2026-001", "CVE-2026-0001")
    assert (marked.fuzz, marked.exhaustion) == (("config parser",), ("upload endpoint",))


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.security_requirement(*ids): *",
            "@pytest.mark.mitigates(*ids): *",
            "@pytest.mark.fixes(*ids): *",
            "@pytest.mark.fuzz(*interfaces): *",
            "@pytest.mark.resource_exhaustion(*interfaces): *",
        ]
    )


@pytest.mark.parametrize("args", ["", "42", "' '"])
def test_a_marker_without_ids_is_a_usage_error(pytester: pytest.Pytester, args: str) -> None:
    pytester.makepyfile(
        f"import pytest\n\n@pytest.mark.mitigates({args})\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x: @pytest.mark.mitigates needs one or more ids*"])


def test_the_entry_point_loads_the_plugin_in_a_fresh_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=TESTS)
    result = pytester.runpytest_subprocess("--strict-markers", "--junitxml=junit.xml")
    result.assert_outcomes(passed=4, failed=1)
    props = _properties((pytester.path / "junit.xml").read_bytes())
    assert props["test_agent::test_rejects_unsigned_image"][0] == ("security_requirement", "SR-3.1")


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys; before = set(sys.modules); import sdl_tracker.pytest_plugin; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", f"import pytest; {code}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(loaded) == ["sdl_tracker", "sdl_tracker.pytest_plugin"]
