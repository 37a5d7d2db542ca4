"""Faulty candidates: the reference candidate with exactly one named defect each.

They are the harness's proof that each scenario can fail. The list, with the requirement each defect must break,
is data (`defects.yaml`); every name there has a class here and the other way round (a test checks it).
"""

from __future__ import annotations

from email.message import EmailMessage

from segur_mss.candidates.reference import ReferenceCandidate


class NoXMssNil(ReferenceCandidate):
    """Forgets X-MSS-NIL on every mail."""

    def set_product_reference(self, msg: EmailMessage) -> None:
        del msg["X-MSS-NIL"]


class WrongXMssNil(ReferenceCandidate):
    """Puts another product's reference in X-MSS-NIL."""

    def set_product_reference(self, msg: EmailMessage) -> None:
        del msg["X-MSS-NIL"]
        msg["X-MSS-NIL"] = "AUTRE-PRODUIT-0000"


FAULTY_CLASSES: dict[str, type[ReferenceCandidate]] = {
    "no-x-mss-nil": NoXMssNil,
    "wrong-x-mss-nil": WrongXMssNil,
}
