"""An Annuaire-Santé-like FHIR R4 directory of the test population (Practitioner, PractitionerRole, Organization).

Shapes follow the ANS "Annuaire Santé" FHIR guide where it matters to a candidate: RPPS and IDNPS identifiers, the
profession (TRE-G15) in `qualification`, MSSanté mailboxes as `telecom` entries with the FR Core email-type
extension (`MSSANTE`) and the `as-ext-mailbox-mss-metadata` extension whose `type` is PER / ORG / APP.
Searches: the common FHIR string and token rules (case- and accent-insensitive prefix match by default,
`:exact`, `:contains`, `:text`; comma = OR, repeated parameter = AND), `_id`, `_count`, `_offset`, `_include`,
`_revinclude`, chained `practitioner.<param>` / `organization.<param>` on PractitionerRole, and
`_has:PractitionerRole:practitioner:<param>` on Practitioner. Unknown parameters are ignored and reported in an
OperationOutcome entry (lenient handling), or refused with `Prefer: handling=strict`.

Every query is recorded twice: as an HTTP exchange (operator recorder) and as a `DirectoryQuery` with the
parameters and the matched resources (evidence for CONF.20 / UX.10: did the candidate search, with which criteria).
"""

from __future__ import annotations

import re
import threading
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from segur_mss.operator.clock import Clock
from segur_mss.operator.identities import Mailbox, Population, Professional

FHIR_JSON = "application/fhir+json"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
BAL_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
EMAIL_TYPE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
EMAIL_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
MAILBOX_METADATA_URL = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
RESOURCE_TYPES = ("Practitioner", "PractitionerRole", "Organization")
RESULT_PARAMS = ("_count", "_offset", "_include", "_revinclude", "_format", "_total", "_elements", "_sort")
DEFAULT_COUNT = 50
MAX_COUNT = 500


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of a string (FHIR string search)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalise(text)).strip("-")


@dataclass(frozen=True)
class Token:
    system: str | None
    code: str | None
    display: str = ""


@dataclass
class Indexed:
    """A resource and the values of its search parameters."""

    resource: dict[str, Any]
    strings: dict[str, list[str]] = field(default_factory=dict)
    tokens: dict[str, list[Token]] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)  # param -> "Type/id"

    @property
    def key(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"


@dataclass
class DirectoryQuery:
    """One search or read received by the directory (evidence)."""

    at: str
    resource_type: str
    params: list[tuple[str, str]]
    total: int
    matches: list[str]  # "Type/id"
    ignored: list[str]
    mailboxes: list[str]  # MSSanté addresses in the matched resources


class SearchError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _mailbox_telecom(box: Mailbox, description: str = "") -> dict[str, Any]:
    metadata: list[dict[str, Any]] = [
        {
            "url": "type",
            "valueCodeableConcept": {"coding": [{"system": BAL_TYPE_SYSTEM, "code": box.type}]},
        },
        {"url": "listeRouge", "valueBoolean": False},
    ]
    if description:
        metadata.append({"url": "description", "valueString": description})
    return {
        "extension": [
            {"url": EMAIL_TYPE_URL, "valueCoding": {"system": EMAIL_TYPE_SYSTEM, "code": "MSSANTE"}},
            {"url": MAILBOX_METADATA_URL, "extension": metadata},
        ],
        "system": "email",
        "value": box.address,
    }


class DirectoryService:
    """The FHIR directory: resources built from the population, search, routes, query log."""

    base_path = "/fhir"

    def __init__(self, population: Population, clock: Clock) -> None:
        self.population = population
        self.clock = clock
        self.base_url = self.base_path
        self.queries: list[DirectoryQuery] = []
        self._lock = threading.Lock()
        self._index: dict[str, list[Indexed]] = {t: [] for t in RESOURCE_TYPES}
        self._build()

    # -- data -------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        pop = self.population
        boxes = [b for b in pop.mailboxes.values() if b.type != "PATIENT"]
        organisations: dict[str, Indexed] = {}
        org_of_box: dict[str, str] = {}
        for box in boxes:
            if box.type not in ("ORG", "APP"):
                continue
            name = box.organisation or self._org_name(box)
            owner = pop.professionals.get(box.owner or "")
            city = owner.place if owner else ""
            org_id = "org-" + _slug(name)
            if org_id not in organisations:
                organisations[org_id] = self._organization(org_id, name, city, len(organisations) + 1)
            org = organisations[org_id]
            org.resource["telecom"].append(_mailbox_telecom(box, self._box_description(box)))
            org.strings["mailbox-mss"].append(box.address)
            org.tokens["mailbox-mss-type"].append(Token(BAL_TYPE_SYSTEM, box.type))
            org_of_box[box.address] = org_id
        self._index["Organization"] = list(organisations.values())

        for pro in pop.professionals.values():
            own = [b for b in boxes if b.type == "PER" and b.owner == pro.rpps]
            self._index["Practitioner"].append(self._practitioner(pro, own))
            self._index["PractitionerRole"].append(self._role(pro, f"prr-{pro.rpps}-1", None, own))
            for box in boxes:  # a role in each organisation whose ORG mailbox the professional shares
                if box.type == "ORG" and pro.rpps in (box.owner, *box.members):
                    org_id = org_of_box[box.address]
                    role_id = f"prr-{pro.rpps}-{org_id}"
                    self._index["PractitionerRole"].append(self._role(pro, role_id, org_id, [box]))

    @staticmethod
    def _org_name(box: Mailbox) -> str:
        return box.address.split("@", 1)[0].replace(".", " ").replace("-", " ").upper()

    @staticmethod
    def _box_description(box: Mailbox) -> str:
        return {"ORG": "BAL organisationnelle", "APP": "BAL applicative", "PER": "BAL personnelle"}.get(box.type, "")

    def _organization(self, org_id: str, name: str, city: str, number: int) -> Indexed:
        identifier = f"1{number:08d}"  # fictitious structure identifier
        resource: dict[str, Any] = {
            "resourceType": "Organization",
            "id": org_id,
            "meta": {
                "profile": ["https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-organization"]
            },
            "identifier": [
                {
                    "system": IDNST_SYSTEM,
                    "value": identifier,
                    "type": {"coding": [{"system": V2_0203, "code": "IDNST"}]},
                }
            ],
            "active": True,
            "name": name,
            "telecom": [],
            "address": [{"city": city, "country": "FR"}] if city else [],
        }
        return Indexed(
            resource,
            strings={"name": [name], "address-city": [city] if city else [], "mailbox-mss": []},
            tokens={
                "_id": [Token(None, org_id)],
                "identifier": [Token(IDNST_SYSTEM, identifier)],
                "active": [Token(None, "true")],
                "mailbox-mss-type": [],
            },
        )

    @staticmethod
    def _profession(pro: Professional) -> dict[str, Any]:
        return {
            "coding": [{"system": PROFESSION_SYSTEM, "code": pro.profession_code, "display": pro.profession}],
            "text": pro.profession,
        }

    def _practitioner(self, pro: Professional, boxes: list[Mailbox]) -> Indexed:
        pid = f"pra-{pro.rpps}"
        resource: dict[str, Any] = {
            "resourceType": "Practitioner",
            "id": pid,
            "meta": {
                "profile": ["https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-practitioner"]
            },
            "identifier": [
                {
                    "use": "official",
                    "system": IDNPS_SYSTEM,
                    "value": "8" + pro.rpps,
                    "type": {"coding": [{"system": V2_0203, "code": "IDNPS"}]},
                },
                {
                    "use": "official",
                    "system": RPPS_SYSTEM,
                    "value": pro.rpps,
                    "type": {"coding": [{"system": V2_0203, "code": "RPPS"}]},
                },
            ],
            "active": True,
            "name": [{"use": "official", "family": pro.family, "given": [pro.given], "text": pro.display_name}],
            "telecom": [_mailbox_telecom(b) for b in boxes],
            "address": [{"use": "work", "city": pro.place, "country": "FR"}],
            "qualification": [{"code": self._profession(pro)}],
        }
        return Indexed(
            resource,
            strings={
                "name": [pro.family, pro.given, pro.display_name],
                "family": [pro.family],
                "given": [pro.given],
                "address-city": [pro.place],
                "mailbox-mss": [b.address for b in boxes],
            },
            tokens={
                "_id": [Token(None, pid)],
                "identifier": [Token(RPPS_SYSTEM, pro.rpps), Token(IDNPS_SYSTEM, "8" + pro.rpps)],
                "qualification-code": [Token(PROFESSION_SYSTEM, pro.profession_code, pro.profession)],
                "active": [Token(None, "true")],
                "mailbox-mss-type": [Token(BAL_TYPE_SYSTEM, b.type) for b in boxes],
            },
        )

    def _role(self, pro: Professional, role_id: str, org_id: str | None, boxes: list[Mailbox]) -> Indexed:
        resource: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": role_id,
            "meta": {
                "profile": ["https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-practitionerrole"]
            },
            "active": True,
            "practitioner": {"reference": f"Practitioner/pra-{pro.rpps}", "display": pro.display_name},
            "code": [self._profession(pro)],
            "specialty": [{"text": pro.specialty}],
            "telecom": [_mailbox_telecom(b) for b in boxes],
        }
        if org_id:
            resource["organization"] = {"reference": f"Organization/{org_id}"}
        return Indexed(
            resource,
            strings={"mailbox-mss": [b.address for b in boxes], "address-city": [pro.place]},
            tokens={
                "_id": [Token(None, role_id)],
                "role": [Token(PROFESSION_SYSTEM, pro.profession_code, pro.profession)],
                "specialty": [Token(None, None, pro.specialty)],
                "active": [Token(None, "true")],
                "mailbox-mss-type": [Token(BAL_TYPE_SYSTEM, b.type) for b in boxes],
            },
            references={
                "practitioner": [f"Practitioner/pra-{pro.rpps}"],
                "organization": [f"Organization/{org_id}"] if org_id else [],
            },
        )

    # -- search -----------------------------------------------------------------------------------------------
    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        return [i.resource for i in self._index[resource_type]]

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        for item in self._index.get(resource_type, []):
            if item.resource["id"] == resource_id:
                return item.resource
        return None

    def _get(self, key: str) -> Indexed | None:
        rtype, _, rid = key.partition("/")
        return next((i for i in self._index.get(rtype, []) if i.resource["id"] == rid), None)

    def search(
        self,
        resource_type: str,
        params: Iterable[tuple[str, str]],
        *,
        strict: bool = False,
    ) -> dict[str, Any]:
        """A FHIR searchset Bundle for `params` (name/value pairs, as in a query string)."""
        if resource_type not in RESOURCE_TYPES:
            raise SearchError(f"type de ressource non pris en charge : {resource_type}", 404)
        pairs = [(k, v) for k, v in params]
        candidates = list(self._index[resource_type])
        ignored: list[str] = []
        for name, value in pairs:
            if name in RESULT_PARAMS:
                continue
            try:
                candidates = [c for c in candidates if self._matches(resource_type, c, name, value)]
            except KeyError:
                if strict:
                    raise SearchError(f"paramètre de recherche non pris en charge : {name}") from None
                ignored.append(name)
        total = len(candidates)
        opts = MultiDict(pairs)
        count = self._int(opts.get("_count"), DEFAULT_COUNT, MAX_COUNT)
        offset = self._int(opts.get("_offset"), 0, 10**6)
        page = candidates[offset : offset + count]
        entries = [self._entry(i.resource, "match") for i in page]
        seen = {i.key for i in page}
        for extra in self._includes(resource_type, page, opts):
            if extra.key not in seen:
                seen.add(extra.key)
                entries.append(self._entry(extra.resource, "include"))
        if ignored:
            entries.append(
                {
                    "resource": {
                        "resourceType": "OperationOutcome",
                        "issue": [
                            {
                                "severity": "warning",
                                "code": "not-supported",
                                "diagnostics": f"paramètre de recherche non pris en charge, ignoré : {name}",
                            }
                            for name in ignored
                        ],
                    },
                    "search": {"mode": "outcome"},
                }
            )
        links = [{"relation": "self", "url": f"{self.base_url}/{resource_type}?{urlencode(pairs)}"}]
        if offset + count < total:
            nxt = [(k, v) for k, v in pairs if k != "_offset"] + [("_offset", str(offset + count))]
            links.append({"relation": "next", "url": f"{self.base_url}/{resource_type}?{urlencode(nxt)}"})
        bundle = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"lastUpdated": self.clock.now().isoformat(timespec="seconds")},
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": entries,
        }
        self._log(resource_type, pairs, total, [i.key for i in candidates], ignored, entries)
        return bundle

    @staticmethod
    def _int(value: str | None, default: int, maximum: int) -> int:
        if value is None or not value.isdigit():
            return default
        return min(int(value), maximum)

    def _entry(self, resource: dict[str, Any], mode: str) -> dict[str, Any]:
        return {
            "fullUrl": f"{self.base_url}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": mode},
        }

    def _includes(self, resource_type: str, page: list[Indexed], opts: MultiDict[str]) -> list[Indexed]:
        found: list[Indexed] = []
        for spec in opts.getall("_include", []):
            source, _, param = spec.partition(":")
            if source not in (resource_type, "*"):
                continue
            for item in page:
                for name, refs in item.references.items():
                    if param in (name, "*"):
                        found.extend(x for x in (self._get(r) for r in refs) if x is not None)
        for spec in opts.getall("_revinclude", []):
            source, _, param = spec.partition(":")
            if source not in RESOURCE_TYPES:
                continue
            keys = {i.key for i in page}
            for other in self._index[source]:
                if any(ref in keys for ref in other.references.get(param, [])):
                    found.append(other)
        return found

    def _matches(self, resource_type: str, item: Indexed, name: str, value: str) -> bool:
        """Whether `item` satisfies one parameter; KeyError when the parameter is unknown."""
        param, _, modifier = name.partition(":")
        if param == "_has":  # _has:PractitionerRole:practitioner:<param>
            parts = name.split(":", 3)
            if len(parts) != 4 or parts[1] not in RESOURCE_TYPES:
                raise KeyError(name)
            source, ref_param, inner = parts[1], parts[2], parts[3]
            return any(
                item.key in other.references.get(ref_param, []) and self._matches(source, other, inner, value)
                for other in self._index[source]
            )
        if "." in param:  # chained: practitioner.name=..., organization.address-city=...
            ref_param, _, inner = name.partition(".")
            if ref_param not in ("practitioner", "organization") or resource_type != "PractitionerRole":
                raise KeyError(name)
            targets = [self._get(r) for r in item.references.get(ref_param, [])]
            return any(t is not None and self._matches(t.resource["resourceType"], t, inner, value) for t in targets)
        alternatives = value.split(",") if modifier != "exact" else [value]
        if param in item.strings or param in self._string_params(resource_type):
            fields = item.strings.get(param, [])
            return any(self._string_match(f, alt, modifier) for f in fields for alt in alternatives)
        if param in item.tokens or param in self._token_params(resource_type):
            tokens = item.tokens.get(param, [])
            return any(self._token_match(t, alt, modifier) for t in tokens for alt in alternatives)
        if resource_type == "PractitionerRole" and param in ("practitioner", "organization"):
            refs = item.references.get(param, [])
            return any(r == alt or r.endswith("/" + alt) for r in refs for alt in alternatives)
        raise KeyError(name)

    @staticmethod
    def _string_params(resource_type: str) -> tuple[str, ...]:
        return {
            "Practitioner": ("name", "family", "given", "address-city", "mailbox-mss"),
            "PractitionerRole": ("mailbox-mss", "address-city"),
            "Organization": ("name", "address-city", "mailbox-mss"),
        }[resource_type]

    @staticmethod
    def _token_params(resource_type: str) -> tuple[str, ...]:
        return {
            "Practitioner": ("_id", "identifier", "qualification-code", "active", "mailbox-mss-type"),
            "PractitionerRole": ("_id", "role", "specialty", "active", "mailbox-mss-type"),
            "Organization": ("_id", "identifier", "active", "mailbox-mss-type"),
        }[resource_type]

    @staticmethod
    def _string_match(field_value: str, wanted: str, modifier: str) -> bool:
        if modifier == "exact":
            return field_value == wanted
        haystack, needle = normalise(field_value), normalise(wanted)
        if not needle:
            return False
        if modifier == "contains":
            return needle in haystack
        return haystack.startswith(needle) or any(w.startswith(needle) for w in re.split(r"[\s\-']+", haystack))

    @staticmethod
    def _token_match(token: Token, wanted: str, modifier: str) -> bool:
        if modifier == "text":
            return bool(token.display) and normalise(token.display).startswith(normalise(wanted))
        if "|" in wanted:
            system, _, code = wanted.partition("|")
            if system and token.system != system:
                return False
            return not code or (token.code or "").casefold() == code.casefold()
        if token.code is not None and token.code.casefold() == wanted.casefold():
            return True
        # lenient: a value that is no code is compared with the display text (e.g. specialty=radiologie)
        return bool(token.display) and normalise(token.display).startswith(normalise(wanted))

    def _log(
        self,
        resource_type: str,
        params: list[tuple[str, str]],
        total: int,
        matches: list[str],
        ignored: list[str],
        entries: list[dict[str, Any]],
    ) -> None:
        mailboxes = sorted(
            {
                t["value"]
                for e in entries
                for t in e["resource"].get("telecom", [])
                if any(x.get("url") == MAILBOX_METADATA_URL for x in t.get("extension", []))
            }
        )
        query = DirectoryQuery(
            self.clock.now().isoformat(timespec="milliseconds"),
            resource_type,
            params,
            total,
            matches,
            ignored,
            mailboxes,
        )
        with self._lock:
            self.queries.append(query)

    # -- HTTP -------------------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.base_path + "/metadata", self._metadata)
        app.router.add_get(self.base_path + "/{rtype}", self._search)
        app.router.add_post(self.base_path + "/{rtype}/_search", self._search_post)
        app.router.add_get(self.base_path + "/{rtype}/{rid}", self._read)

    @staticmethod
    def _outcome(message: str, status: int, code: str = "invalid") -> web.Response:
        body = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": message}],
        }
        return web.json_response(body, status=status, content_type=FHIR_JSON)

    async def _search(self, request: web.Request) -> web.Response:
        return self._answer(request, request.match_info["rtype"], request.query)

    async def _search_post(self, request: web.Request) -> web.Response:
        form = await request.post()
        pairs = MultiDict(request.query)
        pairs.extend((k, str(v)) for k, v in form.items())
        return self._answer(request, request.match_info["rtype"], MultiDictProxy(pairs))

    def _answer(self, request: web.Request, rtype: str, params: MultiDictProxy[str]) -> web.Response:
        strict = "handling=strict" in request.headers.get("Prefer", "")
        try:
            bundle = self.search(rtype, list(params.items()), strict=strict)
        except SearchError as exc:
            return self._outcome(exc.message, exc.status, "not-supported")
        return web.json_response(bundle, content_type=FHIR_JSON)

    async def _read(self, request: web.Request) -> web.Response:
        rtype, rid = request.match_info["rtype"], request.match_info["rid"]
        resource = self.read(rtype, rid)
        self._log(
            rtype,
            [("_id", rid)],
            int(resource is not None),
            [f"{rtype}/{rid}"] if resource else [],
            [],
            [{"resource": resource}] if resource else [],
        )
        if resource is None:
            return self._outcome(f"ressource introuvable : {rtype}/{rid}", 404, "not-found")
        return web.json_response(resource, content_type=FHIR_JSON)

    async def _metadata(self, _request: web.Request) -> web.Response:
        resources = []
        for rtype in RESOURCE_TYPES:
            params = [{"name": p, "type": "string"} for p in self._string_params(rtype)]
            params += [{"name": p, "type": "token"} for p in self._token_params(rtype)]
            resource: dict[str, Any] = {
                "type": rtype,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": params,
            }
            if rtype == "PractitionerRole":
                resource["searchInclude"] = ["PractitionerRole:practitioner", "PractitionerRole:organization"]
                resource["searchChain"] = ["practitioner", "organization"]
            else:
                resource["searchRevInclude"] = ["PractitionerRole:" + rtype.lower()]
            resources.append(resource)
        body = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": self.clock.now().date().isoformat(),
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "implementation": {
                "description": "Annuaire santé de test (opérateur de référence segur-mss)",
                "url": self.base_url,
            },
            "rest": [{"mode": "server", "resource": resources}],
        }
        return web.json_response(body, content_type=FHIR_JSON)
