"""Looking for access tokens where a product keeps its data (SC.MSS/CONF.28: never stored permanently).

The harness knows every access token its Pro Santé Connect issued; it reads the files of the places the candidate
declares (and its working directory) and looks for each token, whole or by its signature (the part that cannot
be rebuilt from the claims).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Bounds of a scan (a product's folder may be large): files bigger than this are read up to this size.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FILES = 20_000


@dataclass
class TokenScan:
    places: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    files: int = 0
    found: list[str] = field(default_factory=list)  # "path (jeton n°k)"
    truncated: bool = False

    def describe(self, tokens: int) -> str:
        where = ", ".join(self.places) or "aucun"
        text = (f"{tokens} jeton(s) d'accès émis cherchés dans {self.files} fichier(s) de {len(self.places)} "
                f"emplacement(s) ({where})")
        if self.missing:
            text += f" ; emplacements absents : {', '.join(self.missing)}"
        if self.truncated:
            text += f" ; examen limité aux {MAX_FILES} premiers fichiers"
        return text + f" ; trouvés dans : {', '.join(self.found) or 'aucun fichier'}"


def token_needles(token: str) -> list[bytes]:
    """The token, and its signature when it is a JWT (found even if the product re-encodes the claims)."""
    needles = [token.encode()]
    parts = token.split(".")
    if len(parts) == 3 and len(parts[2]) >= 20:
        needles.append(parts[2].encode())
    return needles


def scan_for_tokens(places: Iterable[Path | str], tokens: Iterable[str]) -> TokenScan:
    scan = TokenScan()
    needles = [(number, token_needles(t)) for number, t in enumerate(tokens, 1) if t]
    seen: set[Path] = set()
    for place in places:
        root = Path(place)
        if str(root) in scan.places:
            continue
        scan.places.append(str(root))
        if not root.exists():
            scan.missing.append(str(root))
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                continue
            if len(seen) >= MAX_FILES:
                scan.truncated = True
                break
            seen.add(resolved)
            scan.files += 1
            try:
                with path.open("rb") as fh:
                    data = fh.read(MAX_FILE_BYTES)
            except OSError:
                continue
            hits = [number for number, forms in needles if any(n in data for n in forms)]
            if hits:
                scan.found.append(f"{path} (jeton(s) n° {', '.join(map(str, hits))})")
    return scan
