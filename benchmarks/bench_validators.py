"""Validator benchmark: prints numbers, asserts nothing.

    .venv/bin/python benchmarks/bench_validators.py [--kit DIR] [--seconds 3] [--cold-runs 2]

- built-in CDA rules: documents per second (target >= 500) on synthetic N1 documents and on the kit examples;
- kit setup: cold (empty cache: hash, mirror, XSLT generation) and cached (second start on the same cache);
- Saxon compilation of the common profiles (once per process: Saxon-HE cannot export compiled stylesheets);
- full kit (XSD + 4 profiles + volet) documents per second, warm (compiled once), against a per-document run
  from scratch (a new process with an empty cache: generation + compilation + validation), and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segur_mss.documents import DOCUMENT_TYPES, PATIENTS, make_cda  # noqa: E402
from segur_mss.validators.cda import validate_cda  # noqa: E402
from segur_mss.validators.kit import CdaKit, resolve_kit_path  # noqa: E402

DEFAULT_KIT = ROOT.parent / "shared" / "ans" / "testcontenucda-3.0"
WARM_SAMPLE = (
    "BIO-CR-BIO_2024.01_TSH_1.xml",
    "BIO-CR-BIO_2024.01_Microbiologie_V1.xml",
    "LDL-SES_2022.01.xml",
    "IMG-DA-IMG_2024.01_TEP_Thorax.xml",
    "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
    "VAC-NOTE_2023.01.xml",
)
COLD_SCRIPT = """
import sys, time, tempfile
from pathlib import Path
t0 = time.perf_counter()
from segur_mss.validators.kit import CdaKit
kit = CdaKit(sys.argv[1], cache_root=tempfile.mkdtemp(prefix="segur-bench-"))
report = kit.validate(Path(sys.argv[2]).read_bytes())
print(time.perf_counter() - t0, report.valid)
"""


def rate(label: str, docs: list[bytes], seconds: float) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for d in docs:
            validate_cda(d)
        n += len(docs)
    elapsed = time.perf_counter() - t0
    total = sum(len(d) for d in docs) / len(docs) / 1024
    print(f"  {label:<46} {n / elapsed:8.0f} docs/s  (taille moyenne {total:.0f} Kio)")
    return n / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kit", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=3.0, help="durée de chaque mesure des règles intégrées")
    ap.add_argument("--cold-runs", type=int, default=2, help="exécutions « à froid » (un processus chacune)")
    args = ap.parse_args()

    print("Règles intégrées (validate_cda)")
    synthetic = [make_cda(p, doc_type=t).xml for p in PATIENTS.values() for t in DOCUMENT_TYPES]
    rate("documents synthétiques N1", synthetic, args.seconds)
    kit_dir = resolve_kit_path(args.kit) or (DEFAULT_KIT if DEFAULT_KIT.is_dir() else None)
    examples = sorted((kit_dir / "ExemplesCDA").glob("*.xml")) if kit_dir else []
    if examples:
        rate(f"exemples du kit ({len(examples)})", [p.read_bytes() for p in examples], args.seconds)
    if kit_dir is None:
        print("Kit ANS absent (--kit ou SEGUR_MSS_CDA_KIT) : mesures du kit ignorées.")
        return 0

    print(f"\nKit ANS : {kit_dir}")
    cache = Path(tempfile.mkdtemp(prefix="segur-bench-cache-"))
    cold = CdaKit(kit_dir, cache_root=cache).setup()
    print(
        f"  mise en place à froid (cache vide)            {cold.total_seconds:6.2f} s  "
        f"(empreinte {cold.identity_seconds:.2f} s, miroir {cold.shadow_seconds:.2f} s, "
        f"génération XSLT {cold.generate_seconds:.2f} s)"
    )
    t0 = time.perf_counter()
    kit = CdaKit(kit_dir, cache_root=cache)
    cached = kit.setup()
    print(
        f"  mise en place avec le cache                   {time.perf_counter() - t0:6.2f} s  "
        f"(empreinte {cached.identity_seconds:.2f} s, depuis le cache : {cached.from_cache})"
    )
    compile_times = []
    for sch in kit.setup().generated:
        t0 = time.perf_counter()
        kit.executable(sch.sch)
        compile_times.append((sch.sch.rsplit("/", 1)[-1], time.perf_counter() - t0))
    total_compile = sum(t for _, t in compile_times)
    detail = ", ".join(f"{n} {t:.1f} s" for n, t in compile_times)
    print(f"  compilation Saxon des profils (par processus) {total_compile:6.2f} s  ({detail})")

    docs = [kit_dir / "ExemplesCDA" / n for n in WARM_SAMPLE if (kit_dir / "ExemplesCDA" / n).exists()]
    data = [p.read_bytes() for p in docs]
    for d in data:  # compile the volets once
        kit.validate(d)
    times = []
    stages: dict[str, list[float]] = {}
    for _ in range(3):
        for d in data:
            t0 = time.perf_counter()
            report = kit.validate(d)
            times.append(time.perf_counter() - t0)
            for stage, seconds in report.extra["timings"].items():
                key = "volet" if stage.startswith("CI-SIS_") and "Modele" not in stage else stage
                stages.setdefault(key, []).append(seconds)
    warm = statistics.mean(times)
    print(
        f"  kit complet à chaud                           {1 / warm:6.2f} docs/s  ({warm * 1000:.0f} ms/doc, "
        f"{len(data)} exemples × 3)"
    )
    print("    par étape : " + ", ".join(f"{k} {statistics.mean(v) * 1000:.0f} ms" for k, v in stages.items()))

    colds = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for p in docs[: args.cold_runs]:
        out = subprocess.run(
            [sys.executable, "-c", COLD_SCRIPT, str(kit_dir), str(p)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
        )
        seconds = float(out.stdout.split()[0]) if out.returncode == 0 and out.stdout else float("nan")
        colds.append(seconds)
    cold_doc = statistics.mean(colds) if colds else float("nan")
    print(f"  un document à froid (nouveau processus, cache vide) {cold_doc:6.2f} s/doc ({len(colds)} mesures)")
    print(f"  rapport froid / chaud                         {cold_doc / warm:6.0f} ×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
