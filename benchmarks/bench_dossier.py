"""Benchmark of the evidence dossier on a synthetic run (prints numbers; not a timed test).

Builds a run folder with R requirements × S scenarios × P proofs (transcripts of ~2 kB, messages of ~8 kB, one
screenshot of ~60 kB per scenario), then times: one in-run refresh (results.json + report.html, done after every
scenario), the final dossier (+ junit.xml, convergence.xlsx, manifest and zip), `report verify` on the zip and on
the folder; and prints the sizes.

    .venv/bin/python benchmarks/bench_dossier.py [--requirements 36] [--scenarios 3] [--proofs 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SEGUR_MSS_REM", os.devnull)  # the catalogue as shipped, whatever the user imported

from segur_mss.catalogue import load_catalogue  # noqa: E402
from segur_mss.evidence.bundle import bundle_path, verify  # noqa: E402
from segur_mss.evidence.dossier import write_dossier, write_run  # noqa: E402
from segur_mss.evidence.store import ScenarioEvidence  # noqa: E402
from segur_mss.verdicts import Check  # noqa: E402


def build(run_dir: Path, requirements: int, scenarios: int, proofs: int) -> int:
    catalogue = load_catalogue()
    chosen = list(catalogue)[:requirements]
    planned = {r.id: [f"{r.id}.{n:02d}" for n in range(1, scenarios + 1)] for r in chosen}
    write_run(run_dir, {"id": run_dir.name, "started": "2026-01-01T00:00:00.000Z", "complete": False,
                        "candidate": "reference", "env": "embedded", "planned": planned})
    screenshot = os.urandom(60_000)
    count = 0
    for req in chosen:
        for sid in planned[req.id]:
            ev = ScenarioEvidence(run_dir, req.id, sid, f"scénario {sid}")
            for n in range(proofs):
                if n % 2:
                    ev.add_proof("message", f"m{n}.eml", "X-MSS-NIL: REF\r\n\r\n" + "corps " * 1300, "courriel",
                                 media_type="message/rfc822")
                else:
                    ev.add_proof("transcript", f"t{n}.log", "C EHLO x\nS 250 ok\n" * 120, "transcription")
                count += 1
            ev.add_proof("screenshot", "ecran.png", screenshot, "capture", media_type="image/png")
            ev.record_check(Check(req.id, "en-tête", "REF", "REF", True, [f"{sid}.01"]))
            ev.finish("passed")
            count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=int, default=36)
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--proofs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dossier-") as tmp:
        run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        proofs = build(run_dir, args.requirements, args.scenarios, args.proofs)
        built = time.perf_counter() - started
        catalogue = load_catalogue()
        timings = {}
        started = time.perf_counter()
        write_dossier(run_dir, catalogue)
        timings["premier rafraîchissement (compilation du gabarit comprise)"] = time.perf_counter() - started
        started = time.perf_counter()
        write_dossier(run_dir, catalogue)
        timings["rafraîchissement après chaque scénario (results.json + report.html)"] = time.perf_counter() - started
        started = time.perf_counter()
        write_dossier(run_dir, catalogue, final=True, complete=True, bundle=True)
        timings["dossier final (+ junit, xlsx, manifeste, zip)"] = time.perf_counter() - started
        started = time.perf_counter()
        assert verify(bundle_path(run_dir)).ok
        timings["report verify (zip)"] = time.perf_counter() - started
        started = time.perf_counter()
        assert verify(run_dir).ok
        timings["report verify (dossier)"] = time.perf_counter() - started
        print(f"{args.requirements} exigences × {args.scenarios} scénarios : {proofs} preuves écrites en {built:.2f} s")
        for name, seconds in timings.items():
            print(f"  {name:<70} {seconds * 1000:8.0f} ms")
        for name in ("report.html", "results.json", "junit.xml", "convergence.xlsx", "manifest.json"):
            print(f"  taille {name:<63} {(run_dir / name).stat().st_size / 1024:8.0f} Ko")
        evidence = sum(p.stat().st_size for p in (run_dir / "evidence").rglob("*") if p.is_file())
        print(f"  taille des preuves {'':<51} {evidence / 1024:8.0f} Ko")
        archive = bundle_path(run_dir)
        print(f"  taille de l'archive {archive.name:<50} {archive.stat().st_size / 1024:8.0f} Ko")
    return 0


if __name__ == "__main__":
    sys.exit(main())
