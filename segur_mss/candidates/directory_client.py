"""Multi-criteria search of a correspondent in the MSSanté directory (SC.MSS/CONF.20, UX.10, UX.41).

FHIR R4 search on the Annuaire Santé API: `PractitionerRole` with the practitioner's name or RPPS (chained
`practitioner.name`, `practitioner.identifier`), the profession (`role`), the specialty (`specialty`) and the
place (`address-city`), including the `Practitioner`. The MSSanté addresses are the `telecom` entries carrying
the MSSANTE e-mail type extension; their BAL type (PER, ORG, APP) comes with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from segur_mss.candidates.base import DirectorySearch

FHIR_JSON = "application/fhir+json"
MSSANTE_TYPE = "MSSANTE"
METADATA_EXTENSION = "as-ext-mailbox-mss-metadata"


class DirectoryError(Exception):
    """The directory could not be searched (French message)."""


@dataclass
class DirectoryEntry:
    """A professional as the directory describes them, with their MSSanté mailboxes."""

    name: str
    rpps: str = ""
    profession: str = ""
    specialty: str = ""
    place: str = ""
    mailboxes: list[dict[str, str]] = field(default_factory=list)  # {"adresse": …, "type": PER|ORG|APP}

    def describe(self) -> dict[str, Any]:
        return {"nom": self.name, "rpps": self.rpps, "profession": self.profession, "specialite": self.specialty,
                "lieu": self.place, "bal": self.mailboxes}


def search_parameters(search: DirectorySearch) -> list[tuple[str, str]]:
    """Every criterion the user gave, as FHIR search parameters on PractitionerRole."""
    params = []
    if search.name:
        params.append(("practitioner.name", search.name))
    if search.rpps:
        params.append(("practitioner.identifier", search.rpps))
    if search.profession:
        params.append(("role", search.profession))
    if search.specialty:
        params.append(("specialty", search.specialty))
    if search.place:
        params.append(("address-city", search.place))
    return params


def _mailboxes(resource: dict[str, Any]) -> list[dict[str, str]]:
    boxes = []
    for telecom in resource.get("telecom", []):
        extensions = telecom.get("extension", [])
        is_mss = any((e.get("valueCoding") or {}).get("code") == MSSANTE_TYPE for e in extensions)
        if telecom.get("system") != "email" or not is_mss:
            continue
        kind = ""
        for ext in extensions:
            if str(ext.get("url", "")).endswith(METADATA_EXTENSION):
                for sub in ext.get("extension", []):
                    if sub.get("url") == "type":
                        codings = (sub.get("valueCodeableConcept") or {}).get("coding") or [{}]
                        kind = str(codings[0].get("code", ""))
        boxes.append({"adresse": str(telecom.get("value", "")), "type": kind})
    return boxes


def _text(concepts: list[dict[str, Any]]) -> str:
    for concept in concepts or []:
        displays = [c.get("display") for c in concept.get("coding", []) if c.get("display")]
        text = concept.get("text") or next(iter(displays), "")
        if text:
            return str(text)
    return ""


def parse_bundle(bundle: dict[str, Any]) -> list[DirectoryEntry]:
    """One entry per PractitionerRole of the searchset, completed by its included Practitioner."""
    resources = [e.get("resource", {}) for e in bundle.get("entry", [])]
    practitioners = {f"Practitioner/{r.get('id')}": r for r in resources if r.get("resourceType") == "Practitioner"}
    entries = []
    for role in (r for r in resources if r.get("resourceType") == "PractitionerRole"):
        practitioner = practitioners.get((role.get("practitioner") or {}).get("reference", ""), {})
        names = practitioner.get("name") or [{}]
        name = names[0].get("text") or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
        rpps = next((i.get("value", "") for i in practitioner.get("identifier", [])
                     if "rpps" in str(i.get("system", "")).lower()), "")
        city = next((a.get("city", "") for a in practitioner.get("address", []) if a.get("city")), "")
        boxes = _mailboxes(role) or _mailboxes(practitioner)
        entries.append(DirectoryEntry(
            name=name or (role.get("practitioner") or {}).get("display", ""),
            rpps=rpps,
            profession=_text(role.get("code", [])),
            specialty=_text(role.get("specialty", [])),
            place=city,
            mailboxes=boxes,
        ))
    return entries


def search(base_url: str, params: list[tuple[str, str]], *, verify: Any, timeout: float = 10.0) -> tuple[
    list[DirectoryEntry], str, int
]:
    """Run the search; returns the entries, the request line (for traces) and the HTTP status."""
    if not base_url:
        raise DirectoryError("aucun annuaire configuré")
    query = [*params, ("_include", "PractitionerRole:practitioner")]
    url = base_url.rstrip("/") + "/PractitionerRole"
    with httpx.Client(verify=verify, timeout=timeout, trust_env=False) as client:
        try:
            response = client.get(url, params=query, headers={"Accept": FHIR_JSON})
        except httpx.HTTPError as exc:
            raise DirectoryError(f"annuaire injoignable ({type(exc).__name__})") from exc
    request = f"GET {response.request.url.raw_path.decode('ascii', 'replace')}"
    if response.status_code != 200:
        raise DirectoryError(f"recherche refusée par l'annuaire (HTTP {response.status_code}) ; requête : {request}")
    return parse_bundle(response.json()), request, response.status_code
