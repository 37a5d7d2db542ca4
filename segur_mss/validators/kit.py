"""The official ANS CDA validation kit (TestContenuCDA) run with a pipeline this project owns.

The kit is data the user points at (``--kit DIR`` or ``SEGUR_MSS_CDA_KIT``); nothing from it is copied into the
repository and it is never modified. What this module does:

- XSD: ``infrastructure/cda/CDA_extended.xsd`` through lxml (loaded once per process).
- Schematrons: the four common profiles plus the volet chosen by templateId (N1 documents: common profiles
  only). Each ``.sch`` is turned into an XSLT 2 stylesheet by: includes resolved in Python (tolerating includes
  whose letter case differs from the file name, listing the ones that cannot be found), ``queryBinding`` set to
  ``xslt``, then lxml's bundled ISO skeleton XSLT 1 steps (``iso_abstract_expand.xsl`` then
  ``iso_svrl_for_xslt1.xsl``) run by saxonche, and the generated stylesheet's ``version`` raised to ``2.0``.
- The generated XSLT text is cached on disk, keyed by the kit's content hash, in a folder that mirrors the kit
  layout with symbolic links so the schematrons' relative ``doc()`` paths still resolve; the value set missing
  from the pristine kit (``voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml``) is derived there from
  ``jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml``.
- Saxon-HE cannot export compiled stylesheets: each one is compiled once per process (the slow part; the
  structuration minimale profile alone takes several seconds) and kept in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from .cda import document_codes, load_cda
from .model import Finding, ValidationReport, validator_version
from .xmlsafe import DEFAULT_MAX_XML_BYTES

ENV_KIT = "SEGUR_MSS_CDA_KIT"
ENV_CACHE = "SEGUR_MSS_CACHE_DIR"
VALIDATOR = "segur-mss.cda-kit"
VERSION = validator_version("cda-kit")
#: Saxon optimisation level used to compile the generated stylesheets. Saxon-HE 13.1's optimiser fails on some
#: volets ("Bad parent pointer in expression tree", e.g. BIO-CR-BIO_2024.01); level 0 avoids it and was measured
#: no slower here (compile and run). ``None`` keeps Saxon's default.
DEFAULT_OPTIMIZATION_LEVEL: int | None = 0
#: Bump when the generation pipeline changes: it is part of the cache key.
PIPELINE_VERSION = "2"
#: Skeleton ``select-contexts`` per schematron (default ``//``): the tree walk is faster only for the
#: structuration minimale profile (a few patterns with many rules); measured equal findings both ways.
SELECT_CONTEXTS: dict[str, str] = {"schematrons/profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch": ""}
DEFAULT_SELECT_CONTEXTS = "//"

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
XSD_PATH = "infrastructure/cda/CDA_extended.xsd"
SCHEMATRON_DIR = "schematrons"
COMMON_PROFILES: tuple[str, ...] = (
    "schematrons/profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch",
    "schematrons/profils/IHE.sch",
    "schematrons/profils/CI-SIS_ModelesDeContenusCDA.sch",
    "schematrons/profils/CI-SIS_Modeles_ANS.sch",
)
#: Value sets missing from the pristine kit: target path -> (SVS source in the kit, value set OID).
DERIVED_VALUE_SETS: dict[str, tuple[str, str]] = {
    "schematrons/profils/structurationMinimale/include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml": (
        "jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml",
        "1.2.250.1.213.1.1.5.471",
    ),
}
TYPE_CODES_JDV = "jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml"
HASHED_DIRS: tuple[str, ...] = ("schematrons", "jeuxDeValeurs", "infrastructure")

#: Volet family -> its signature templateId (CI-SIS, public). The volet schematron is chosen from these, never
#: from the LOINC code (18748-4 is shared by several volets).
VOLET_TEMPLATE_IDS: dict[str, str] = {
    "ANEST-CR-ANEST": "1.2.250.1.213.1.1.1.40",
    "ANEST-CR-CPA": "1.2.250.1.213.1.1.1.41",
    "AVC-AUNV": "1.2.250.1.213.1.1.1.15",
    "AVC-EUNV": "1.2.250.1.213.1.1.1.16",
    "AVC-PAVC": "1.2.250.1.213.1.1.1.25",
    "AVC-SUNV": "1.2.250.1.213.1.1.1.17",
    "BIO-CR-BIO": "1.2.250.1.213.1.1.1.55",
    "BIO-TROD": "1.2.250.1.213.1.1.1.59",
    "CANCER-CR-GM": "1.2.250.1.213.1.1.1.32",
    "CANCER-D2LM-FIDD": "1.2.250.1.213.1.1.1.28",
    "CANCER-D2LM-FIN": "1.2.250.1.213.1.1.1.27",
    "CANCER-FRCP": "1.2.250.1.213.1.1.1.8",
    "CANCER-PPS": "1.2.250.1.213.1.1.1.26",
    "CARD-F-PRC-AVK": "1.2.250.1.213.1.1.1.2.1.1",
    "CARD-F-PRC-TAP": "1.2.250.1.213.1.1.1.2.1.2",
    "CARD-F-PRC-DCI": "1.2.250.1.213.1.1.1.2.1.3",
    "CARD-F-PRC-PSC": "1.2.250.1.213.1.1.1.2.1.4",
    "CARD-F-PRC-PPV": "1.2.250.1.213.1.1.1.2.1.5",
    "CNAM-HR": "1.2.250.1.213.1.1.1.36",
    "CSE-CS8": "1.2.250.1.213.1.1.1.5.1",
    "CSE-CS9": "1.2.250.1.213.1.1.1.5.2",
    "CSE-CS24": "1.2.250.1.213.1.1.1.5.3",
    "CSE-MDE": "1.2.250.1.213.1.1.1.5.4",
    "DLU-EHPAD-DLU": "1.2.250.1.213.1.1.1.22",
    "DLU-EHPAD-FLUDT": "1.2.250.1.213.1.1.1.23",
    "DLU-EHPAD-FLUDR": "1.2.250.1.213.1.1.1.24",
    "EP-MED-DM": "1.2.250.1.213.1.1.1.39",
    "IMG-CR-IMG": "1.2.250.1.213.1.1.1.45",
    "IMG-DA-IMG": "1.2.250.1.213.1.1.1.47",
    "IPS-FR": "1.2.250.1.213.1.1.1.51",
    "LDL-EES": "1.2.250.1.213.1.1.1.21",
    "LDL-SES": "1.2.250.1.213.1.1.1.29",
    "OBP-SAP": "1.2.250.1.213.1.1.1.12.1",
    "OBP-SNM": "1.2.250.1.213.1.1.1.12.2",
    "OBP-SNE": "1.2.250.1.213.1.1.1.12.3",
    "OBP-SCM": "1.2.250.1.213.1.1.1.12.4",
    "OBP-SEM": "1.2.250.1.213.1.1.1.12.5",
    "OPH-BRE": "1.2.250.1.213.1.1.1.42",
    "OPH-CR-RTN": "1.2.250.1.213.1.1.1.18",
    "SDM-MR": "1.2.250.1.213.1.1.1.30",
    "TLM-DA": "1.2.250.1.213.1.1.1.38",
    "VAC": "1.2.250.1.213.1.1.1.37",
    "VAC-NOTE": "1.2.250.1.213.1.1.1.46",
    "VSM": "1.2.250.1.213.1.1.1.13",
    "eDISP-MED": "1.2.250.1.213.1.1.1.54",
}
VOLET_SCH_RE = re.compile(r"^CI-SIS_(?P<family>.+)_(?P<version>\d{4}\.\d{2})\.sch$")
_FULL_PATH_STEP = re.compile(r"\*:?\[local-name\(\)='([^']+)'(?: and namespace-uri\(\)='[^']*')?\]")
_SEVERITY = {
    "error": "error",
    "fatal": "error",
    "erreur": "error",
    "warning": "warning",
    "warn": "warning",
    "avertissement": "warning",
    "info": "info",
    "information": "info",
    "note": "info",
}


class KitError(Exception):
    """The kit folder is unusable (message in French)."""


def resolve_kit_path(kit: str | os.PathLike[str] | None = None) -> Path | None:
    """``kit`` if given, else ``$SEGUR_MSS_CDA_KIT``, else None."""
    value = kit if kit is not None else os.environ.get(ENV_KIT)
    return Path(value).expanduser() if value else None


def default_cache_root() -> Path:
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "segur-mss"


def _skeleton_dir() -> Path:
    import lxml.isoschematron as iso

    return Path(iso.__file__).parent / "resources" / "xsl" / "iso-schematron-xslt1"


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class KitIdentity:
    """Which kit produced a verdict: its path, the SHA-256 of its content and its git commit if any."""

    path: str
    content_hash: str
    files: int
    git_commit: str | None = None
    name: str = ""

    @property
    def short(self) -> str:
        return f"{self.name or Path(self.path).name}@{self.content_hash[:12]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "content_sha256": self.content_hash,
            "files": self.files,
            "git_commit": self.git_commit,
        }


def _git_commit(path: Path) -> str | None:
    git = path / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = git / head[5:]
            if ref.exists():
                return ref.read_text().strip()
            packed = git / "packed-refs"
            if packed.exists():
                for line in packed.read_text().splitlines():
                    if line.endswith(head[5:]):
                        return line.split()[0]
            return None
        return head or None
    except OSError:
        return None


def compute_kit_identity(path: Path) -> KitIdentity:
    """Hash every file under the kit's data folders (relative path + content), sorted."""
    digest = hashlib.sha256()
    count = 0
    for sub in HASHED_DIRS:
        base = path / sub
        if not base.is_dir():
            continue
        files = sorted(p for p in base.rglob("*") if p.is_file())
        for f in files:
            rel = f.relative_to(path).as_posix()
            digest.update(rel.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(f.read_bytes()).digest())
            count += 1
    return KitIdentity(str(path.resolve()), digest.hexdigest(), count, _git_commit(path), path.resolve().name)


# --------------------------------------------------------------------------- schematron -> XSLT


@dataclass
class GeneratedSchematron:
    """A schematron's generated XSLT in the cache, and what its include resolution found."""

    sch: str
    xslt: Path
    unresolved_includes: list[str] = field(default_factory=list)
    case_fixed_includes: list[str] = field(default_factory=list)
    generated_seconds: float = 0.0
    from_cache: bool = False
    generator_messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schematron": self.sch,
            "unresolved_includes": self.unresolved_includes,
            "case_fixed_includes": self.case_fixed_includes,
            "generator_messages": self.generator_messages,
            "from_cache": self.from_cache,
        }


def _find_case_insensitive(path: Path) -> Path | None:
    if path.exists():
        return path
    parent = path.parent
    if not parent.is_dir():
        found_parent = _find_case_insensitive(parent)
        if found_parent is None or not found_parent.is_dir():
            return None
        parent = found_parent
    lower = path.name.lower()
    for child in parent.iterdir():
        if child.name.lower() == lower:
            return child
    return None


def resolve_includes(sch_path: Path, kit_root: Path) -> tuple[etree._ElementTree, list[str], list[str]]:
    """Parse ``sch_path`` and inline its ``sch:include`` (recursively; case-insensitive fallback).

    Returns the tree, the unresolved hrefs (their include elements are dropped) and the case-fixed hrefs.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    tree = etree.parse(str(sch_path), parser)
    unresolved: list[str] = []
    case_fixed: list[str] = []

    def inline(node: etree._Element, base: Path, depth: int) -> None:
        for inc in list(node.iter(f"{{{SCH_NS}}}include")):
            href = inc.get("href", "")
            target_rel, _, fragment = href.partition("#")
            target = _find_case_insensitive((base / target_rel).resolve()) if target_rel else None
            parent = inc.getparent()
            if target is None or depth > 10 or parent is None:
                unresolved.append(href)
                if parent is not None:
                    parent.remove(inc)
                continue
            if target.name != Path(target_rel).name:
                case_fixed.append(href)
            sub = etree.parse(str(target), parser).getroot()
            if fragment:
                sub = next((e for e in sub.iter() if e.get("id") == fragment), sub)
            inline(sub, target.parent, depth + 1)
            parent.replace(inc, sub)

    inline(tree.getroot(), sch_path.parent, 0)
    return tree, unresolved, case_fixed


def derive_value_set(svs_path: Path, oid: str) -> bytes:
    """ART-DECOR-like ``valueSets`` file (no namespace) from an SVS ``RetrieveValueSetResponse``."""
    svs = etree.parse(str(svs_path), etree.XMLParser(resolve_entities=False, no_network=True))
    root = etree.Element("valueSets")
    vs_el = svs.find(".//{urn:ihe:iti:svs:2008}ValueSet")
    vs = etree.SubElement(root, "valueSet", id=oid)
    if vs_el is not None and vs_el.get("displayName"):
        vs.set("displayName", vs_el.get("displayName", ""))
    concepts = etree.SubElement(vs, "conceptList")
    for c in svs.iter("{urn:ihe:iti:svs:2008}Concept"):
        attrs = {k: c.get(k, "") for k in ("code", "codeSystem", "displayName") if c.get(k) is not None}
        etree.SubElement(concepts, "concept", **attrs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _raise_version(xslt: str) -> str:
    m = re.search(r"<xsl:stylesheet\b[^>]*>", xslt)
    if m is None:
        raise KitError("feuille de style générée inattendue (pas de xsl:stylesheet)")
    tag = re.sub(r"""\bversion=(["'])1\.0\1""", 'version="2.0"', m.group(0))
    return xslt[: m.start()] + tag + xslt[m.end() :]


# --------------------------------------------------------------------------- Saxon (one processor per process)

_SAXON_LOCK = threading.RLock()
_SAXON: dict[str, Any] = {}
_EXECUTABLES: dict[tuple[str, str, int | None], Any] = {}
_XSD_CACHE: dict[str, etree.XMLSchema] = {}


def _saxon() -> tuple[Any, Any]:
    with _SAXON_LOCK:
        if "proc" not in _SAXON:
            from saxonche import PySaxonProcessor

            proc = PySaxonProcessor(license=False)
            _SAXON["proc"] = proc
            _SAXON["opt"] = None
        return _SAXON["proc"], _SAXON.get("opt")


def saxon_version() -> str:
    proc, _ = _saxon()
    return str(proc.version)


def _skeleton_executables() -> tuple[Any, Any]:
    with _SAXON_LOCK:
        if "skeleton" not in _SAXON:
            proc, _ = _saxon()
            xslt = proc.new_xslt30_processor()
            sk = _skeleton_dir()
            abstract = xslt.compile_stylesheet(stylesheet_file=str(sk / "iso_abstract_expand.xsl"))
            svrl = xslt.compile_stylesheet(stylesheet_file=str(sk / "iso_svrl_for_xslt1.xsl"))
            svrl.set_parameter("generate-fired-rule", proc.make_string_value("false"))
            for executable in (abstract, svrl):  # keep the skeleton's xsl:message out of stdout
                executable.set_save_xsl_message(True)
            _SAXON["skeleton"] = (abstract, svrl)
        return _SAXON["skeleton"]


def _skeleton_hash() -> str:
    sk = _skeleton_dir()
    h = hashlib.sha256()
    for name in ("iso_abstract_expand.xsl", "iso_svrl_for_xslt1.xsl", "iso_schematron_skeleton_for_xslt1.xsl"):
        h.update((sk / name).read_bytes())
    return h.hexdigest()


def _top_level_split(expr: str, sep: str) -> list[str]:
    """Split an XPath on ``sep`` outside brackets, parentheses and string literals."""
    parts, depth, quote, current = [], 0, "", []
    for ch in expr:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def context_selects_attributes(context: str) -> bool:
    """True when a rule context can match attribute nodes (its last step is ``@x`` or ``attribute::``)."""
    for branch in _top_level_split(context, "|"):
        last = _top_level_split(branch.strip(), "/")[-1].strip()
        if last.startswith(("@", "attribute::")) or last in ("node()", "@*"):
            return True
    return False


def generate_xslt(sch_tree: etree._ElementTree, *, select_contexts: str = "") -> tuple[str, list[str]]:
    """Run the ISO skeleton steps (abstract expansion, SVRL generation) on a resolved schematron tree.

    Returns the XSLT 2 text and the skeleton's messages (e.g. a phase activating an undeclared pattern).
    Two skeleton options are set for speed, both semantics-preserving here: ``attributes=false`` when no rule
    context can match an attribute (the skeleton's autodetection says true as soon as a predicate contains
    ``@``), and ``select-contexts`` (``//`` selects each pattern's contexts directly instead of walking the
    whole tree once per pattern; slower on the structuration minimale profile, see :data:`SELECT_CONTEXTS`).
    """
    root = sch_tree.getroot()
    root.set("queryBinding", "xslt")  # the XSLT 1 skeleton refuses xslt2; Saxon runs the result as XSLT 2
    proc, _ = _saxon()
    abstract, svrl = _skeleton_executables()
    with _SAXON_LOCK:
        src = etree.tostring(sch_tree, encoding="unicode")
        expanded = abstract.transform_to_string(xdm_node=proc.parse_xml(xml_text=src))
        contexts = [
            r.get("context", "")
            for r in etree.fromstring(expanded.encode("utf-8")).iter(f"{{{SCH_NS}}}rule")
            if r.get("abstract") != "true"
        ]
        attributes = any(context_selects_attributes(c) for c in contexts)
        svrl.set_parameter("attributes", proc.make_string_value("true" if attributes else "false"))
        svrl.set_parameter("select-contexts", proc.make_string_value(select_contexts))
        generated = svrl.transform_to_string(xdm_node=proc.parse_xml(xml_text=expanded))
        messages: list[str] = []
        for executable in (abstract, svrl):
            value = executable.get_xsl_messages()
            if value is not None:
                messages.extend(" ".join(str(item).split()) for item in value)
            executable.clear_xsl_messages()
    if not generated:
        raise KitError("la génération XSLT n'a rien produit")
    return _raise_version(generated), [m for m in messages if m]


# --------------------------------------------------------------------------- the kit


@dataclass
class KitSetup:
    """Timings and facts of :meth:`CdaKit.setup` (what the benchmark prints)."""

    identity_seconds: float
    shadow_seconds: float
    generate_seconds: float
    generated: list[GeneratedSchematron]
    cache_dir: Path

    @property
    def total_seconds(self) -> float:
        return self.identity_seconds + self.shadow_seconds + self.generate_seconds

    @property
    def from_cache(self) -> bool:
        return all(g.from_cache for g in self.generated)


class CdaKit:
    """One ANS kit folder, its generated XSLT cache and its per-process compiled schematrons."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        cache_root: str | os.PathLike[str] | None = None,
        optimization_level: int | None = DEFAULT_OPTIMIZATION_LEVEL,
    ) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise KitError(f"Kit CDA introuvable : « {self.path} » n'est pas un dossier.")
        if not (self.path / XSD_PATH).is_file() or not (self.path / SCHEMATRON_DIR).is_dir():
            raise KitError(
                f"« {self.path} » n'est pas un kit TestContenuCDA : {XSD_PATH} ou {SCHEMATRON_DIR}/ manquant."
            )
        self.cache_root = Path(cache_root).expanduser() if cache_root else default_cache_root()
        self.optimization_level = optimization_level
        self._identity: KitIdentity | None = None
        self._generated: dict[str, GeneratedSchematron] = {}
        self._shadow_ready = False
        self._lock = threading.RLock()

    # ---- identity / cache location
    @property
    def identity(self) -> KitIdentity:
        if self._identity is None:
            self._identity = compute_kit_identity(self.path)
        return self._identity

    @property
    def cache_dir(self) -> Path:
        key = hashlib.sha256(
            f"{self.identity.content_hash}|{PIPELINE_VERSION}|{_skeleton_hash()}".encode()
        ).hexdigest()[:20]
        return self.cache_root / f"kit-{key}"

    # ---- layout
    def volets(self) -> dict[str, tuple[str, str]]:
        """Volet schematrons: ``name`` (``BIO-CR-BIO_2024.01``) -> (family, relative path)."""
        out: dict[str, tuple[str, str]] = {}
        for p in sorted((self.path / SCHEMATRON_DIR).glob("CI-SIS_*.sch")):
            m = VOLET_SCH_RE.match(p.name)
            if m:
                out[p.name[len("CI-SIS_") : -len(".sch")]] = (m["family"], p.relative_to(self.path).as_posix())
        return out

    def volet_for(self, template_ids: tuple[str, ...] | list[str]) -> str | None:
        """Relative path of the volet schematron for these templateIds (latest version), None if unknown."""
        families = [fam for fam, tid in VOLET_TEMPLATE_IDS.items() if tid in template_ids]
        if not families:
            return None
        # the most specific templateId wins (CARD-F-PRC-AVK over a generic one)
        families.sort(key=lambda f: len(VOLET_TEMPLATE_IDS[f]), reverse=True)
        family = families[0]
        candidates = [
            (name.rsplit("_", 1)[1], rel) for name, (fam, rel) in self.volets().items() if fam.lower() == family.lower()
        ]
        if not candidates:
            return None
        return max(candidates)[1]

    def volet_by_name(self, name: str) -> str | None:
        """``BIO-CR-BIO_2024.01`` (case-insensitive, ``_``/``-`` tolerant) -> relative path."""
        norm = name.lower().replace("_", "-")
        for volet, (_, rel) in self.volets().items():
            if volet.lower().replace("_", "-") == norm:
                return rel
        return None

    def type_codes(self) -> frozenset[str]:
        """Codes of the JDV_J07 (XDS typeCode) value set."""
        svs = etree.parse(str(self.path / TYPE_CODES_JDV), etree.XMLParser(resolve_entities=False, no_network=True))
        return frozenset(c.get("code", "") for c in svs.iter("{urn:ihe:iti:svs:2008}Concept"))

    def _real_dirs(self) -> set[str]:
        dirs = {str(PurePosixPath(p).parent) for p in COMMON_PROFILES}
        dirs.add(SCHEMATRON_DIR)
        dirs.update(str(PurePosixPath(p).parent) for p in DERIVED_VALUE_SETS)
        closed: set[str] = {"."}
        for d in dirs:
            p = PurePosixPath(d)
            while str(p) != ".":
                closed.add(str(p))
                p = p.parent
        return closed

    def _build_shadow(self) -> None:
        """Mirror the kit in the cache with symbolic links; derive the missing value sets there."""
        with self._lock:
            if self._shadow_ready:
                return
            dest = self.cache_dir
            marker = dest / ".kit-path"
            kit_abs = str(self.path.resolve())
            if marker.exists() and marker.read_text() != kit_abs:
                # the kit moved: refresh the links, keep the generated XSLT
                for link in dest.rglob("*"):
                    if link.is_symlink():
                        link.unlink()
            reals = self._real_dirs()
            for rd in sorted(reals):
                (dest / rd).mkdir(parents=True, exist_ok=True)
                for child in (self.path / rd).iterdir():
                    rel = child.relative_to(self.path).as_posix()
                    if rel in reals:
                        continue
                    link = dest / rel
                    if link.is_symlink() or link.exists():
                        continue
                    with contextlib.suppress(FileExistsError):
                        link.symlink_to(child.resolve(), target_is_directory=child.is_dir())
            for target, (source, oid) in DERIVED_VALUE_SETS.items():
                if (self.path / target).exists():
                    continue
                out = dest / target
                if not out.exists() and not out.is_symlink():
                    _atomic_write(out, derive_value_set(self.path / source, oid))
            _atomic_write(marker, kit_abs.encode())
            self._shadow_ready = True

    def derived_files(self) -> list[str]:
        return [t for t in DERIVED_VALUE_SETS if not (self.path / t).exists()]

    # ---- generation (disk cache) and compilation (process cache)
    def generated(self, sch_rel: str) -> GeneratedSchematron:
        """The generated XSLT of ``sch_rel`` (from the disk cache, or generated now)."""
        with self._lock:
            if sch_rel in self._generated:
                return self._generated[sch_rel]
            self._build_shadow()
            rel = PurePosixPath(sch_rel)
            xslt_path = self.cache_dir / rel.parent / f"{rel.stem}.segur-mss.xsl"
            meta_path = xslt_path.with_suffix(".json")
            if xslt_path.parent.is_symlink() or not xslt_path.parent.exists():
                # a volet folder is inside the real "schematrons" dir; others would be under a link
                raise KitError(f"emplacement de cache inattendu pour {sch_rel}")
            if xslt_path.exists() and meta_path.exists():
                meta = json.loads(meta_path.read_text())
                gen = GeneratedSchematron(
                    sch_rel,
                    xslt_path,
                    meta["unresolved_includes"],
                    meta["case_fixed_includes"],
                    0.0,
                    True,
                    meta.get("generator_messages", []),
                )
            else:
                t0 = time.perf_counter()
                tree, unresolved, case_fixed = resolve_includes(self.path / sch_rel, self.path)
                text, messages = generate_xslt(
                    tree, select_contexts=SELECT_CONTEXTS.get(sch_rel, DEFAULT_SELECT_CONTEXTS)
                )
                _atomic_write(xslt_path, text.encode("utf-8"))
                _atomic_write(
                    meta_path,
                    json.dumps(
                        {
                            "schematron": sch_rel,
                            "unresolved_includes": unresolved,
                            "case_fixed_includes": case_fixed,
                            "generator_messages": messages,
                        }
                    ).encode(),
                )
                gen = GeneratedSchematron(
                    sch_rel, xslt_path, unresolved, case_fixed, time.perf_counter() - t0, False, messages
                )
            self._generated[sch_rel] = gen
            return gen

    def executable(self, sch_rel: str) -> Any:
        """The compiled stylesheet of ``sch_rel`` (compiled once per process)."""
        gen = self.generated(sch_rel)
        key = (str(gen.xslt), sch_rel, self.optimization_level)
        with _SAXON_LOCK:
            if key in _EXECUTABLES:
                return _EXECUTABLES[key]
            proc, _ = _saxon()
            if self.optimization_level is not None:
                proc.set_configuration_property(
                    "http://saxon.sf.net/feature/optimizationLevel", str(self.optimization_level)
                )
            xslt = proc.new_xslt30_processor()
            _EXECUTABLES[key] = xslt.compile_stylesheet(stylesheet_file=str(gen.xslt))
            return _EXECUTABLES[key]

    def compiled(self, sch_rel: str) -> bool:
        gen = self._generated.get(sch_rel)
        return gen is not None and (str(gen.xslt), sch_rel, self.optimization_level) in _EXECUTABLES

    def schema(self) -> etree.XMLSchema:
        """The CDA XSD (loaded once per process per kit)."""
        key = self.identity.content_hash
        with _SAXON_LOCK:
            if key not in _XSD_CACHE:
                parser = etree.XMLParser(resolve_entities=False, no_network=True)
                _XSD_CACHE[key] = etree.XMLSchema(etree.parse(str(self.path / XSD_PATH), parser))
            return _XSD_CACHE[key]

    def setup(self, *, volets: list[str] | tuple[str, ...] = ()) -> KitSetup:
        """Hash the kit, mirror it, generate (or load from cache) the common profiles' XSLT (+ ``volets``)."""
        t0 = time.perf_counter()
        _ = self.identity
        t1 = time.perf_counter()
        self._build_shadow()
        t2 = time.perf_counter()
        gens = [self.generated(s) for s in (*COMMON_PROFILES, *volets)]
        t3 = time.perf_counter()
        return KitSetup(t1 - t0, t2 - t1, t3 - t2, gens, self.cache_dir)

    # ---- validation
    def schematrons_for(self, data_codes_template_ids: tuple[str, ...], level: str, volet: str | None) -> list[str]:
        sch = list(COMMON_PROFILES)
        if volet is not None:
            if volet:
                rel = volet if volet.endswith(".sch") else self.volet_by_name(volet)
                if rel is None:
                    raise KitError(f"Volet « {volet} » absent du kit.")
                sch.append(rel)
        elif level != "N1":
            rel = self.volet_for(data_codes_template_ids)
            if rel:
                sch.append(rel)
        return sch

    def validate(
        self,
        data: bytes,
        *,
        subject: str = "document CDA",
        volet: str | None = None,
        run_xsd: bool = True,
        max_bytes: int = DEFAULT_MAX_XML_BYTES,
    ) -> ValidationReport:
        """XSD + common profiles + volet (``volet=None``: chosen by templateId; ``""``: none; or a name)."""
        report = ValidationReport(VALIDATOR, VERSION, subject, extra={"kit": self.identity.to_dict()})
        loaded = load_cda(data, max_bytes=max_bytes)
        report.extend(f for f in loaded.findings if f.severity == "error")
        if loaded.cda is None or not report.valid:
            report.extra["complete"] = False
            return report
        cda = loaded.cda
        codes = document_codes(cda)
        assert codes is not None
        timings: dict[str, float] = {}
        standalone = cda if loaded.root_kind == "cda" else etree.fromstring(etree.tostring(cda))
        if run_xsd:
            t0 = time.perf_counter()
            schema = self.schema()
            if not schema.validate(standalone):
                for err in schema.error_log:
                    report.findings.append(
                        Finding(
                            "KIT-XSD",
                            "error",
                            f"ligne {err.line}, colonne {err.column}",
                            f"Schéma CDA (CDA_extended.xsd) : {err.message}",
                            line=err.line,
                        )
                    )
            timings["xsd"] = time.perf_counter() - t0
        try:
            schematrons = self.schematrons_for(codes.template_ids, codes.level, volet)
        except KitError as exc:
            report.findings.append(Finding("KIT-VOLET", "error", "/ClinicalDocument/templateId", str(exc)))
            schematrons = list(COMMON_PROFILES)
        if codes.level != "N1" and len(schematrons) == len(COMMON_PROFILES) and volet is None:
            report.findings.append(
                Finding(
                    "KIT-VOLET",
                    "warning",
                    "/ClinicalDocument/templateId",
                    "Aucun schématron de volet ne correspond aux templateId du document : seuls les profils "
                    "communs ont été appliqués.",
                    observed=" ".join(codes.template_ids),
                )
            )
        complete = True
        proc, _ = _saxon()
        text = etree.tostring(standalone, encoding="unicode")
        sch_info = []
        for sch in schematrons:
            gen = self.generated(sch)
            sch_info.append(gen.to_dict())
            if gen.unresolved_includes:
                report.findings.append(
                    Finding(
                        "KIT-INCLUDE",
                        "warning",
                        sch,
                        f"{len(gen.unresolved_includes)} inclusion(s) introuvable(s) dans le kit, règles "
                        f"correspondantes non appliquées : {', '.join(gen.unresolved_includes)}",
                    )
                )
            t0 = time.perf_counter()
            try:
                executable = self.executable(sch)
                with _SAXON_LOCK:
                    node = proc.parse_xml(xml_text=text)
                    svrl = executable.transform_to_string(xdm_node=node)
            except Exception as exc:  # saxonche raises its own PySaxonApiError
                complete = False
                report.findings.append(
                    Finding(
                        "KIT-RUN",
                        "warning",
                        sch,
                        f"Schématron non exécuté (erreur du moteur XSLT) : {str(exc).strip()[:500]}",
                    )
                )
                continue
            finally:
                timings[PurePosixPath(sch).stem] = time.perf_counter() - t0
            report.extend(svrl_findings(svrl, PurePosixPath(sch).stem))
        report.extra.update(
            {
                "schematrons": sch_info,
                "volet": next((s for s in schematrons if s not in COMMON_PROFILES), None),
                "level": codes.level,
                "timings": timings,
                "complete": complete,
                "derived_files": self.derived_files(),
            }
        )
        return report


def svrl_findings(svrl: str, source: str) -> list[Finding]:
    """Findings from an SVRL report (failed asserts and successful reports)."""
    out: list[Finding] = []
    if not svrl:
        return out
    root = etree.fromstring(svrl.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    for el in root.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        role = (el.get("role") or el.get("flag") or "error").strip().lower()
        severity = _SEVERITY.get(role, "error")
        text_el = el.find(f"{{{SVRL_NS}}}text")
        message = " ".join("".join(text_el.itertext()).split()) if text_el is not None else ""
        rule_id = f"KIT:{source}" + (f"#{el.get('id')}" if el.get("id") else "")
        out.append(
            Finding(
                rule_id,
                severity,  # type: ignore[arg-type]
                svrl_location(el.get("location", "")),
                message or f"Assertion en échec : {el.get('test', '')}",
                observed=None,
                expected=el.get("test"),
            )
        )
    return out


def svrl_location(location: str) -> str:
    """Namespace-free path, as ANS reports show it."""
    return _FULL_PATH_STEP.sub(r"\1", location)


_KIT_CACHE: dict[str, CdaKit] = {}


def get_kit(path: str | os.PathLike[str] | None = None) -> CdaKit | None:
    """A shared :class:`CdaKit` for ``path`` (or ``$SEGUR_MSS_CDA_KIT``); None when no kit is configured."""
    resolved = resolve_kit_path(path)
    if resolved is None:
        return None
    key = str(resolved.resolve())
    if key not in _KIT_CACHE:
        _KIT_CACHE[key] = CdaKit(resolved)
    return _KIT_CACHE[key]


__all__ = [
    "COMMON_PROFILES",
    "ENV_KIT",
    "CdaKit",
    "KitError",
    "KitIdentity",
    "KitSetup",
    "compute_kit_identity",
    "get_kit",
    "resolve_kit_path",
    "svrl_findings",
]
