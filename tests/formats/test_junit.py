from __future__ import annotations

from pathlib import Path

import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats.junit import Outcome, parse

DATA = Path(__file__).resolve().parents[1] / "data" / "junit"
SCHEMAS = Path(__file__).resolve().parents[2] / ".." / "shared" / "schemas"

PYTEST_STYLE = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="pytest" errors="0" failures="1" skipped="0" tests="3" time="0.1">
    <testcase classname="tests.test_agent" name="test_rejects_unsigned_image" time="0.01">
      <properties>
        <property name="security_requirement" value="SR-3.1" />
        <property name="security_requirement" value="SR-3.1" />
        <property name="mitigates" value="T-001" />
        <property name="other" value="x" />
      </properties>
    </testcase>
    <testcase classname="tests.test_agent.TestServer" name="test_pinning[ecdsa]" time="0.01">
      <properties><property name="security_requirement">SR-1.2</property></properties>
      <failure message="AssertionError: pinned">trace</failure>
      <error message="teardown failed">trace</error>
    </testcase>
    <testsuite name="nested"><testcase name="bare"/></testsuite>
  </testsuite>
</testsuites>
"""


def test_ant_report_validates_and_parses() -> None:
    xsd = SCHEMAS / "JUnit.xsd"
    if not xsd.is_file():
        pytest.skip(f"JUnit.xsd not available at {SCHEMAS}")
    import xmlschema

    xmlschema.XMLSchema(str(xsd)).validate(str(DATA / "ant.xml"))
    cases = parse("ant.xml", (DATA / "ant.xml").read_bytes())
    assert [(c.id, c.outcome, c.line) for c in cases] == [
        ("com.example.pump.UpdaterTest::acceptsSignedImage", Outcome.PASSED, 6),
        ("com.example.pump.UpdaterTest::rejectsUnsignedImage", Outcome.FAILED, 7),
        ("com.example.pump.UpdaterTest::rejectsUnknownServer", Outcome.ERROR, 10),
        ("com.example.pump.UpdaterTest::resumesDownload", Outcome.SKIPPED, 13),
    ]
    assert cases[1].message == "expected rejection"


def test_properties_link_requirements_and_threats() -> None:
    first, second, bare = parse("junit.xml", PYTEST_STYLE)
    assert first.requirements == ("SR-3.1",) and first.threats == ("T-001",)
    assert first.outcome is Outcome.PASSED
    assert second.id == "tests.test_agent.TestServer::test_pinning[ecdsa]"
    assert second.requirements == ("SR-1.2",)  # property value given as text
    assert second.outcome is Outcome.ERROR  # the worst of failure and error
    assert (bare.id, bare.classname, bare.line) == ("bare", "", 17)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
            b'<!ENTITY lol2 "&lol;&lol;&lol;">\n]>\n<testsuite>&lol2;</testsuite>\n',
            r"^junit\.xml:2: the report has a DTD",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "file:///etc/passwd">\n<testsuite/>',
            r"^junit\.xml:2: the report has a DTD",
        ),
        (b"<testsuite>\n  <testcase name='a'>\n</testsuite>", r"^junit\.xml:3:2: not well-formed"),
        (b"", r"^junit\.xml:1:0: not well-formed XML: no element found"),
        (b"<html>\n<body/></html>", r"^junit\.xml:1: expected a JUnit report .* found <html>"),
        (
            b"<testsuite>\n<testcase classname='a'/>\n</testsuite>",
            r"^junit\.xml:2: <testcase> has no name attribute",
        ),
        (
            b"<testsuite>\n<testcase name='a'><testcase name='b'/></testcase></testsuite>",
            r"^junit\.xml:2: <testcase> inside another",
        ),
        (
            b"<testsuite><testcase name='a'>\n<properties><property value='x'/></properties>"
            b"</testcase></testsuite>",
            r"^junit\.xml:2: <property> has no name",
        ),
    ],
)
def test_malformed_reports_name_file_and_line(raw: bytes, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        parse("junit.xml", raw)
