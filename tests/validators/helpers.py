"""Mutation helpers: inject one defect into a synthetic CDA."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

HL7 = "urn:hl7-org:v3"
NS = {"h": HL7}


def mutate(xml: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(xml)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def remove(xpath: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        found = root.xpath(xpath, namespaces=NS)
        assert found, f"nothing matches {xpath}"
        for el in found:
            el.getparent().remove(el)

    return change


def set_attr(xpath: str, name: str, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        found = root.xpath(xpath, namespaces=NS)
        assert found, f"nothing matches {xpath}"
        for el in found:
            el.set(name, value)

    return change


def set_text(xpath: str, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        found = root.xpath(xpath, namespaces=NS)
        assert found, f"nothing matches {xpath}"
        for el in found:
            el.text = value

    return change


def add_related_document(parent_root: str = "1.2.3.4.5", type_code: str = "RPLC") -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        rel = etree.Element(f"{{{HL7}}}relatedDocument", typeCode=type_code)
        parent = etree.SubElement(rel, f"{{{HL7}}}parentDocument")
        etree.SubElement(parent, f"{{{HL7}}}id", root=parent_root)
        anchor = root.find("h:componentOf", NS)
        anchor.addprevious(rel)

    return change


def add_template_id(root_oid: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        last = root.findall("h:templateId", NS)[-1]
        last.addnext(etree.Element(f"{{{HL7}}}templateId", root=root_oid))

    return change


def wrap_self_presenting(xml: bytes) -> bytes:
    """A self-presenting document: xsl:stylesheet root embedding the ClinicalDocument."""
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:template match="/"><html><body>Document</body></html></xsl:template>'
        b'<xsl:variable name="doc">' + body + b"</xsl:variable></xsl:stylesheet>"
    )


def wrap_signed(xml: bytes) -> bytes:
    """An enveloping XML signature whose ds:Object carries the ClinicalDocument (no real signature value)."""
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/>'
        b"<ds:SignatureValue>AAAA</ds:SignatureValue><ds:Object>" + body + b"</ds:Object></ds:Signature>"
    )
