# TEMPORARY shim written by the lead so the CONF.16 skeleton can run while the validators engineer writes the
# real `validators/mail.py`: replace this whole file freely (keep `header_values` and `check_x_mss_nil`).
from __future__ import annotations

from email.message import EmailMessage

from segur_mss.validators.model import Finding


def header_values(msg: EmailMessage, name: str) -> list[str]:
    return [str(v).strip() for v in msg.get_all(name, [])]


def check_x_mss_nil(msg: EmailMessage, expected: str) -> list[Finding]:
    values = header_values(msg, "X-MSS-NIL")
    if values == [expected]:
        return []
    return [Finding("mail.x-mss-nil", "error", "X-MSS-NIL", f"X-MSS-NIL attendu {expected}, vu {values}",
                    "SC.MSS/CONF.16")]
