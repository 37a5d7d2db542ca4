"""Hardened XML parsing shared by the validators (no entities, no network, bounded size and depth)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .model import Finding

#: Default maximum size of one XML document (a CDA with an embedded PDF can be large).
DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024


def hardened_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, never touches the network and keeps libxml2's limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
        remove_pis=False,
    )


@dataclass
class ParsedXml:
    tree: etree._ElementTree | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tree is not None


def parse_xml(
    data: bytes,
    *,
    location: str = "/",
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
    rule_prefix: str = "XML",
    require_utf8: bool = True,
    forbid_dtd: bool = True,
) -> ParsedXml:
    """Parse ``data`` safely; problems become findings (never an exception).

    Rules: ``<prefix>-SIZE`` (too large, not parsed), ``<prefix>-WELLFORMED`` (syntax or encoding error),
    ``<prefix>-DEPTH`` (nesting beyond libxml2's limit), ``<prefix>-DTD`` (DOCTYPE / entity declarations, which
    are never resolved), ``<prefix>-ENCODING`` (declared encoding other than UTF-8).
    """
    findings: list[Finding] = []
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_xml expects bytes")
    if len(data) > max_bytes:
        findings.append(
            Finding(
                f"{rule_prefix}-SIZE",
                "error",
                location,
                f"Document XML trop volumineux ({len(data)} octets, limite {max_bytes}) : non analysé.",
                observed=str(len(data)),
                expected=f"<= {max_bytes}",
            )
        )
        return ParsedXml(None, findings)
    if not data.strip():
        findings.append(Finding(f"{rule_prefix}-WELLFORMED", "error", location, "Document XML vide."))
        return ParsedXml(None, findings)
    try:
        tree = etree.ElementTree(etree.fromstring(bytes(data), hardened_parser()))
    except etree.XMLSyntaxError as exc:
        msg = str(exc)
        line = getattr(exc, "lineno", None) or None
        lowered = msg.lower()
        if "amplification" in lowered or ("entity" in lowered and ("loop" in lowered or "recursion" in lowered)):
            findings.append(
                Finding(
                    f"{rule_prefix}-DTD",
                    "error",
                    location,
                    f"Expansion d'entités abusive (« billion laughs »), document refusé : {msg}",
                    line=line,
                )
            )
        elif "depth" in lowered or "XML_PARSE_HUGE" in msg:
            findings.append(
                Finding(
                    f"{rule_prefix}-DEPTH",
                    "error",
                    location,
                    f"Imbrication XML trop profonde, document refusé : {msg}",
                    line=line,
                )
            )
        else:
            findings.append(
                Finding(
                    f"{rule_prefix}-WELLFORMED",
                    "error",
                    location,
                    f"Document XML mal formé ou mal encodé : {msg}",
                    line=line,
                )
            )
        return ParsedXml(None, findings)
    except (ValueError, MemoryError) as exc:  # e.g. unsupported encoding declaration
        findings.append(Finding(f"{rule_prefix}-WELLFORMED", "error", location, f"Document XML illisible : {exc}"))
        return ParsedXml(None, findings)

    docinfo = tree.docinfo
    if forbid_dtd and (docinfo.internalDTD is not None or docinfo.doctype):
        has_entities = b"<!ENTITY" in bytes(data[:1_000_000]).upper()
        findings.append(
            Finding(
                f"{rule_prefix}-DTD",
                "error",
                location,
                (
                    "Déclaration DOCTYPE avec entités : interdite (entités non résolues, risque XXE / "
                    "« billion laughs »)."
                    if has_entities
                    else "Déclaration DOCTYPE présente : interdite dans ce type de document."
                ),
                observed=docinfo.doctype or "DOCTYPE",
            )
        )
    encoding = (docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if require_utf8 and encoding not in ("UTF-8", "UTF8"):
        findings.append(
            Finding(
                f"{rule_prefix}-ENCODING",
                "error",
                location,
                f"Encodage déclaré « {docinfo.encoding} » : UTF-8 attendu.",
                expected="UTF-8",
                observed=docinfo.encoding,
            )
        )
    return ParsedXml(tree, findings)


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def path_of(el: etree._Element, root: etree._Element | None = None) -> str:
    """Namespace-free XPath of ``el`` (``/ClinicalDocument/recordTarget/patientRole/id[2]``), from ``root``."""
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        name = local_name(node)
        parent = node.getparent()
        if parent is not None and (root is None or node is not root):
            same = [c for c in parent if isinstance(c.tag, str) and local_name(c) == name]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        if node is root:
            break
        node = parent
    return "/" + "/".join(reversed(parts))
