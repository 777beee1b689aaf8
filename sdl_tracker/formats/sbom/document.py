"""Build, validate and read CycloneDX documents with cyclonedx-python-lib.

`build` makes a CycloneDX 1.6 JSON SBOM whose bytes depend only on its inputs (serial number
derived from the content, timestamp = the commit time). `validate` checks any CycloneDX JSON or
XML document against the schema of its declared specVersion with the library's validators and
returns what it lists.
"""

from __future__ import annotations

import json
import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

from cyclonedx.contrib.hash.factories import HashTypeFactory
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import License, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from sdl_tracker import __version__
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.sbom.built import Built
from sdl_tracker.formats.sbom.model import Project, Resolution

LIBRARY = "cyclonedx-python-lib"
_XML_NS = "http://cyclonedx.org/schema/bom/"


@dataclass(frozen=True)
class Item:
    """One component as listed by a CycloneDX document."""

    key: str
    """Identity across versions: the purl without its version, else `group/name`."""
    name: str
    version: str | None
    purl: str | None


@dataclass(frozen=True)
class Inventory:
    """What a validated CycloneDX document lists."""

    spec_version: str
    format: str
    """`json` or `xml`."""
    product: Item | None
    """The metadata component (what the SBOM describes)."""
    components: tuple[Item, ...]


def library_version() -> str:
    return metadata.version(LIBRARY)


def build(
    project: Project,
    resolution: Resolution,
    *,
    commit: str,
    tag: str | None,
    time: datetime,
    built: Sequence[Built] = (),
) -> bytes:
    """A CycloneDX 1.6 JSON SBOM of `project` with the resolved components, validated.

    With `built` distributions the subject is what ships: the metadata component carries the
    SHA-256 of the first (a wheel when there is one), and each is named in a property."""
    components: dict[str, list[Component]] = {}
    for package in resolution.packages:
        purl = PackageURL(type="pypi", name=package.key, version=package.version)
        components.setdefault(package.key, []).append(
            Component(
                type=ComponentType.LIBRARY,
                name=package.name,
                version=package.version,
                purl=purl,
                bom_ref=purl.to_string(),
                licenses=_licenses(package.licenses),
                hashes=[HashTypeFactory().from_composite_str(h) for h in package.hashes],
            )
        )
    product = _product(project, commit, tag)
    if built:
        product.hashes.add(HashTypeFactory().from_composite_str(f"sha256:{built[0].sha256}"))
        for b in built:
            product.properties.add(
                Property(name="sdl-tracker:built-artifact", value=f"{b.path} sha256:{b.sha256}")
            )
    refs = sorted(str(c.bom_ref.value) for found in components.values() for c in found)
    serial = uuid.uuid5(
        uuid.NAMESPACE_URL,
        "\n".join(
            [
                "https://sdl-tracker.dev/sbom",
                commit,
                tag or "",
                project.name,
                project.version or "",
                *refs,
                *(b.sha256 for b in built),
            ]
        ),
    )
    bom = Bom(
        serial_number=serial,
        metadata=BomMetaData(
            component=product,
            timestamp=time,
            tools=ToolRepository(
                components=[
                    Component(
                        type=ComponentType.APPLICATION, name="sdl-tracker", version=__version__
                    ),
                    Component(type=ComponentType.LIBRARY, name=LIBRARY, version=library_version()),
                ]
            ),
            properties=[
                Property(name="sdl-tracker:sbom:source", value=s) for s in resolution.sources
            ],
        ),
    )
    for found in components.values():
        bom.components.update(found)
    bom.register_dependency(product, _pick(components, resolution.direct))
    unknown: set[str] = set()
    for package in resolution.packages:
        mine = [c for c in components[package.key] if c.version == package.version]
        if package.requires is None:
            unknown.update(str(c.bom_ref.value) for c in mine)
        for component in mine:
            bom.register_dependency(component, _pick(components, package.requires or ()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library warns about things we check ourselves
        text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
    document = json.loads(text)
    # The library lists every component in the graph; where its dependencies are unknown
    # (a plain requirements file) CycloneDX says to leave it out rather than claim none.
    document["dependencies"] = [
        d for d in document.get("dependencies", []) if d["ref"] not in unknown
    ]
    data = (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    validate(data, "generated SBOM")
    return data


def _product(project: Project, commit: str, tag: str | None) -> Component:
    properties = [Property(name="sdl-tracker:git:commit", value=commit)]
    if tag:
        properties.append(Property(name="sdl-tracker:git:tag", value=tag))
    version = project.version or tag
    purl = PackageURL(
        type="pypi" if project.python else "generic",
        name=canonicalize_name(project.name) if project.python else project.name,
        version=version,
    )
    if project.version is None and tag:
        properties.append(Property(name="sdl-tracker:version-from", value="git tag"))
    return Component(
        type=ComponentType.APPLICATION,
        name=project.name,
        version=version,
        purl=purl,
        bom_ref=f"product:{project.name}",
        properties=properties,
    )


def _pick(components: dict[str, list[Component]], keys: Iterable[str]) -> list[Component]:
    return [c for key in keys for c in components.get(key, [])]


def _licenses(values: Iterable[str]) -> list[License]:
    made = [LicenseFactory().make_from_string(v) for v in values]
    expressions = [m for m in made if isinstance(m, LicenseExpression)]
    # CycloneDX allows one expression or a list of licences, not both.
    return list(expressions[:1] or made)


def validate(data: bytes, where: str) -> Inventory:
    """Validate a CycloneDX JSON or XML document against its declared specVersion's schema."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{where}: not UTF-8 text ({e}); expected a CycloneDX JSON or XML SBOM"
        ) from e
    if text.lstrip().startswith("<"):
        return _validate_xml(text, where)
    return _validate_json(text, where)


def _schema(version: object, where: str, place: str) -> SchemaVersion:
    try:
        return SchemaVersion.from_version(str(version))
    except (ValueError, TypeError) as e:
        known = ", ".join(v.to_version() for v in sorted(SchemaVersion))
        raise InputError(
            f"{where}: {place}: unknown CycloneDX version {version!r} (known: {known})"
        ) from e


def _validate_json(text: str, where: str) -> Inventory:
    try:
        data = bounded.json_loads(text, where, "sbom")
    except json.JSONDecodeError as e:
        raise InputError(
            f"{where}: line {e.lineno} column {e.colno}: invalid JSON: {e.msg}; "
            "expected a CycloneDX SBOM"
        ) from e
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        raise InputError(f'{where}: $.bomFormat: expected "CycloneDX"; is this a CycloneDX SBOM?')
    version = _schema(data.get("specVersion"), where, "$.specVersion")
    if version < SchemaVersion.V1_2:
        raise InputError(
            f"{where}: $.specVersion: CycloneDX JSON starts at 1.2, got "
            f"{version.to_version()}; convert the SBOM to XML or a newer version"
        )
    error = JsonStrictValidator(version).validate_str(text)
    if error is not None:
        raise InputError(
            f"{where}: {error.data.json_path}: {error.data.message} "
            f"(CycloneDX {version.to_version()} JSON schema)"
        )
    product = data.get("metadata", {}).get("component")
    return Inventory(
        spec_version=version.to_version(),
        format="json",
        product=_item(product) if isinstance(product, dict) else None,
        components=tuple(_item(c) for c in _walk(data.get("components", []))),
    )


def _walk(components: list[Any]) -> Iterable[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk(component.get("components", []))


def _item(component: dict[str, Any]) -> Item:
    name, group = str(component.get("name", "")), component.get("group")
    version, purl = component.get("version"), component.get("purl")
    key = f"{group}/{name}" if group else name
    if purl:
        try:
            parsed = PackageURL.from_string(str(purl))
            key = parsed._replace(version=None).to_string()
        except ValueError:
            key = str(purl).split("@")[0]
    return Item(key=key, name=name, version=version, purl=purl)


def _validate_xml(text: str, where: str) -> Inventory:
    bounded.xml_check(text, where, "sbom")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        line, column = e.position
        raise InputError(f"{where}: line {line} column {column}: invalid XML: {e}") from e
    namespace, _, tag = root.tag[1:].partition("}")
    if tag != "bom" or not namespace.startswith(_XML_NS):
        raise InputError(
            f"{where}: line 1: root element {root.tag!r}: expected <bom> in the "
            f"{_XML_NS}<version> namespace; is this a CycloneDX SBOM?"
        )
    version = _schema(namespace.removeprefix(_XML_NS), where, "namespace")
    error = XmlValidator(version).validate_str(text)
    if error is not None:
        raise InputError(
            f"{where}: line {error.data.line} column {error.data.column}: "
            f"{error.data.message} (CycloneDX {version.to_version()} XML schema)"
        )
    ns = {"c": namespace}
    product = root.find("c:metadata/c:component", ns)
    return Inventory(
        spec_version=version.to_version(),
        format="xml",
        product=_xml_item(product, ns) if product is not None else None,
        components=tuple(_xml_item(c, ns) for c in _xml_walk(root, ns)),
    )


def _xml_walk(parent: ET.Element, ns: dict[str, str]) -> Iterable[ET.Element]:
    for component in parent.iterfind("c:components/c:component", ns):
        yield component
        yield from _xml_walk(component, ns)


def _xml_item(element: ET.Element, ns: dict[str, str]) -> Item:
    fields = {
        k: element.findtext(f"c:{k}", namespaces=ns) for k in ("name", "group", "version", "purl")
    }
    return _item({k: v for k, v in fields.items() if v is not None})
