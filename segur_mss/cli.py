"""`segur-mss`: the command line (French for the user; English in the code)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from segur_mss import __version__, cli_french
from segur_mss.candidates.spec import CandidateSpecError, parse_candidate_spec
from segur_mss.catalogue import CatalogueError, load_catalogue
from segur_mss.config import ConfigError, load_config

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)  # never cut a path in an error


class UsageError(Exception):
    """A usage or configuration error: exit 2 with a French message."""


def build_parser() -> argparse.ArgumentParser:
    cli_french.install()
    parser = argparse.ArgumentParser(
        prog="segur-mss",
        description="Harnais de conformité MSSanté Ségur vague 2 : opérateur de référence, campagne de scénarios "
        "Gherkin par exigence, dossier de preuves.",
    )
    parser.add_argument("--version", action="version", version=f"segur-mss {__version__}",
                        help="affiche la version et quitte")
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", title="commandes")

    run = sub.add_parser("run", help="exécute la campagne et écrit le dossier de preuves")
    run.add_argument("--candidate", default="reference", metavar="SPEC",
                     help="candidat : reference, faulty:<défaut>, command:<fichier.toml>, http:<url>, manual "
                     "(défaut : reference)")
    run.add_argument("--answers", metavar="FICHIER", help="réponses préparées d'une session manuelle (YAML ou TOML : "
                     "fichiers et déclarations par scénario) ; aussi SEGUR_MSS_ANSWERS")
    run.add_argument("--profile", metavar="P", help="profil du logiciel (lps-per, lps-org, bal-app, pfi, dpi, ris, "
                     "sgl, lgc) ; sans profil, toutes les exigences sont exécutées")
    run.add_argument("--requirements", metavar="ID,...", help="n'exécuter que ces exigences (ex. SC.MSS/CONF.16)")
    run.add_argument("--env", default="embedded", metavar="ENV", help="embedded (défaut) ou operator:FICHIER")
    run.add_argument("--out", metavar="DIR", help="dossier de sortie (défaut : out/<horodatage>)")
    run.add_argument("--config", metavar="FICHIER", help="configuration TOML du produit testé ([produit] "
                     "reference_convergence = …)")
    run.add_argument("--workers", metavar="N", default="0",
                     help="exécution parallèle (pytest-xdist) : nombre de processus ou auto (défaut : 0, en série)")
    run.add_argument("--sign-key", metavar="CLE.pem", help="signe le manifeste de l'archive avec cette clé privée "
                     "(RSA, EC ou Ed25519 ; mot de passe éventuel dans SEGUR_MSS_SIGN_KEY_PASSWORD)")

    env = sub.add_parser("env", help="opérateur de référence pour un essai manuel")
    env_sub = env.add_subparsers(dest="env_command", metavar="ACTION", title="actions")
    up = env_sub.add_parser("up", help="démarre l'opérateur, affiche ses paramètres, écrit env.json ; Ctrl-C arrête")
    up.add_argument("--out", metavar="DIR", default=str(PROJECT_ROOT / "out" / "env"),
                    help="dossier où écrire env.json (défaut : out/env)")
    up.add_argument("--bind", metavar="ADRESSE", default="127.0.0.1",
                    help="adresse d'écoute (défaut : 127.0.0.1 ; ne l'ouvrez au réseau qu'en connaissance de cause)")

    validate = sub.add_parser("validate", help="valide un document CDA, une archive IHE_XDM ou un courriel")
    validate.add_argument("kind", choices=("cda", "xdm", "mail"), metavar="cda|xdm|mail",
                          help="nature du fichier : cda, xdm ou mail")
    validate.add_argument("path", metavar="FICHIER", help="fichier à valider")
    validate.add_argument("--kit", metavar="DIR", help="kit ANS TestContenuCDA (sinon SEGUR_MSS_CDA_KIT ; sans kit : "
                          "règles intégrées seulement)")
    validate.add_argument("--json", action="store_true", help="sortie JSON (constats structurés)")

    doctor = sub.add_parser("doctor", help="vérifie la machine avant une campagne (avec les corrections)")
    doctor.add_argument("--out", metavar="DIR", default=str(PROJECT_ROOT / "out"), help="dossier de sortie prévu")

    cat = sub.add_parser("catalogue", help="affiche le catalogue des exigences")
    cat.add_argument("--coverage", action="store_true", help="montre les scénarios qui couvrent chaque exigence")
    cat.add_argument("--import-rem", metavar="FICHIER.xlsx", help="importe le texte officiel d'un REM de l'ANS "
                     "(feuille « Exigences ») ; enregistré dans $SEGUR_MSS_REM ou "
                     "~/.config/segur-mss/rem_officiel.yaml")

    from segur_mss.evidence.commands import add_report_parser

    add_report_parser(sub)

    selftest = sub.add_parser("selftest", help="le harnais se prouve : référence conforme, chaque candidat fautif "
                              "met en échec son exigence et elle seule")
    selftest.add_argument("--complet", action="store_true", help="chaque candidat fautif sur toutes les exigences "
                          "automatiques (défaut : sa cible, ses collatérales déclarées et des exigences témoins)")
    selftest.add_argument("--temoins", type=int, default=1, metavar="N",
                          help="exigences témoins par candidat fautif (défaut : 1)")
    selftest.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                          help="campagnes en parallèle (défaut : 2 au plus)")
    selftest.add_argument("--defauts", metavar="NOM,...", help="ne vérifier que ces candidats fautifs")
    selftest.add_argument("--out", metavar="DIR", help="garder les dossiers des campagnes et selftest.json ici")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "catalogue":
            return command_catalogue(args)
        if args.command == "report":
            from segur_mss.evidence.commands import command_report

            return command_report(args, console, errors)
        if args.command == "selftest":
            return command_selftest(args)
        if args.command == "env":
            if args.env_command != "up":
                raise UsageError("action attendue : segur-mss env up [--out DIR] [--bind ADRESSE]")
            from segur_mss.operator.envup import run_env_up

            return run_env_up(Path(args.out), args.bind, console)
        if args.command == "validate":
            from segur_mss.validators.cli import run_validate

            return run_validate(args.kind, Path(args.path), kit=Path(args.kit) if args.kit else None,
                                as_json=args.json, console=console)
        if args.command == "doctor":
            from segur_mss.doctor import run_doctor

            return run_doctor(Path(args.out), console)
    except (UsageError, CandidateSpecError, ConfigError, CatalogueError) as exc:
        errors.print(f"[bold red]erreur :[/] {escape(str(exc))}")  # [section] in messages is not markup
        return EXIT_USAGE
    parser.print_help()
    return EXIT_USAGE


# -- catalogue ----------------------------------------------------------------------------------------------
def command_catalogue(args: argparse.Namespace) -> int:
    from segur_mss.catalogue.features import scan_features

    if args.import_rem:
        from segur_mss.evidence.rem_import import command_import_rem

        return command_import_rem(args.import_rem, console, errors)
    catalogue = load_catalogue()
    if not args.coverage:
        table = Table(title=f"Catalogue des exigences {catalogue.version} ({len(catalogue)} exigences)")
        for col in ("ID", "Réf. #2", "Groupe", "Titre", "Provenance", "Modes", "Profils"):
            table.add_column(col)
        for req in catalogue:
            table.add_row(req.id, req.ref2 or "—", req.groupe, req.titre, req.provenance, ", ".join(req.modes),
                          ", ".join(req.profils))
        console.print(table)
        return EXIT_OK
    scenarios, problems = scan_features(PROJECT_ROOT / "features", catalogue)
    table = Table(title="Couverture des exigences par les scénarios")
    table.add_column("ID")
    table.add_column("Scénarios / raison")
    for req in catalogue:
        covering = [f"{s.scenario_id} {s.name} ({', '.join(s.modes)})" for s in scenarios if s.requirement == req.id]
        table.add_row(req.id, "\n".join(covering) or f"[italic]non testé : {req.not_tested_reason}[/]")
    console.print(table)
    covered = len({s.requirement for s in scenarios})
    console.print(f"{covered} exigence(s) couverte(s) sur {len(catalogue)} ; {len(scenarios)} scénario(s).")
    for problem in problems:
        errors.print(f"[red]{problem}[/]")
    return EXIT_USAGE if problems else EXIT_OK


# -- run ----------------------------------------------------------------------------------------------------
def _check_run_arguments(args: argparse.Namespace) -> None:
    catalogue = load_catalogue()
    args.candidate = str(parse_candidate_spec(args.candidate))  # command:<file> becomes an absolute path
    if args.profile and args.profile not in catalogue.profiles:
        raise UsageError(f"profil inconnu « {args.profile} ». Choix possibles : {', '.join(catalogue.profiles)}")
    if args.requirements:
        wanted = [r.strip() for r in args.requirements.split(",") if r.strip()]
        unknown = [r for r in wanted if r not in catalogue]
        if unknown or not wanted:
            raise UsageError(f"exigence(s) inconnue(s) : {', '.join(unknown) or '(liste vide)'}. Choix possibles : "
                             f"{', '.join(catalogue.requirements)}")
    if args.env != "embedded":
        raise UsageError(f"environnement « {args.env} » non disponible dans cette version. Choix possibles : embedded")
    if args.config:
        load_config(Path(args.config))
    if args.answers:
        from segur_mss.candidates.answers import AnswersError, load_answers

        try:
            load_answers(Path(args.answers))
        except AnswersError as exc:
            raise UsageError(str(exc)) from exc
    if args.candidate == "manual" and args.workers != "0":
        raise UsageError("le candidat manual se pilote en série : retirez --workers")
    if args.workers != "auto" and not args.workers.isdigit():
        raise UsageError(f"--workers attend un nombre ou auto, pas « {args.workers} »")
    if args.sign_key:
        from segur_mss.evidence.bundle import BundleError, check_sign_key

        try:
            check_sign_key(Path(args.sign_key))
        except BundleError as exc:
            raise UsageError(str(exc)) from exc


def command_run(args: argparse.Namespace) -> int:
    from segur_mss.evidence.dossier import RESULTS_FILE, read_run, write_dossier
    from segur_mss.evidence.results import exit_code

    _check_run_arguments(args)
    if args.answers:  # read by the manual adapter in the campaign's process
        os.environ["SEGUR_MSS_ANSWERS"] = str(Path(args.answers).resolve())
    out = Path(args.out) if args.out else PROJECT_ROOT / "out" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = out.resolve()
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"le dossier de sortie {out} existe déjà et n'est pas vide : choisissez-en un autre (--out)")
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pytest", str(PROJECT_ROOT / "scenarios"), "-p", "no:cacheprovider",
               "-q", "--tb=short", "-o", "console_output_style=classic",
               "--candidate", args.candidate, "--segur-out", str(out)]
    if args.profile:
        command += ["--profile", args.profile]
    if args.requirements:
        command += ["--requirements", args.requirements]
    if args.config:
        command += ["--segur-config", str(Path(args.config).resolve())]
    if args.workers != "0":
        command += ["-n", args.workers]
    command += ["--alluredir", str(out / "allure-results")]
    console.print(f"Campagne segur-mss {__version__} — candidat [bold]{args.candidate}[/] — dossier {out}")
    log_path = out / "campagne.log"
    if args.candidate == "manual":
        console.print("Session manuelle : les consignes et les comptes à rebours s'affichent dans ce terminal.")
    returncode = _run_pytest(command, log_path, progress=args.candidate != "manual")
    catalogue = load_catalogue()
    run = read_run(out)
    if not run:
        errors.print(f"[red]La campagne n'a pas démarré (code {returncode}) ; voir {log_path}[/]")
        return EXIT_FAILED
    from segur_mss.evidence.commands import seal_run

    sign_key = Path(args.sign_key) if args.sign_key else None
    if returncode not in (0, 1) or not run.get("complete"):
        results = write_dossier(out, catalogue, final=True, complete=False, bundle=False)
        errors.print(f"[red]Campagne interrompue (code pytest {returncode}) : dossier incomplet, voir {log_path}[/]")
        _summary(results, out)
        seal_run(out, sign_key, console, errors)
        return EXIT_FAILED
    import json

    results = json.loads((out / RESULTS_FILE).read_text(encoding="utf-8"))
    _summary(results, out)
    seal_run(out, sign_key, console, errors)
    return exit_code(results)


def _run_pytest(command: list[str], log_path: Path, progress: bool = True) -> int:
    """Run the campaign in a child process; Ctrl-C or SIGTERM stops it and leaves an incomplete dossier."""
    from segur_mss.evidence.dossier import DEFER_BUNDLE_ENV
    from segur_mss.evidence.progress import CampaignProgress

    env = dict(os.environ, PYTHONUNBUFFERED="1", **{DEFER_BUNDLE_ENV: "1"})  # the CLI seals once the log is closed
    with log_path.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)

        def stop(signum: int, _frame: object) -> None:
            child.terminate()

        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            # polls the run folder the child writes; not during a manual session (the person's terminal)
            with CampaignProgress(log_path.parent, console) if progress else contextlib.nullcontext():
                return child.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _summary(results: dict, out: Path) -> None:
    from segur_mss.verdicts import STATUS_LABELS

    table = Table(title="Résultat par exigence")
    table.add_column("Exigence")
    table.add_column("Statut")
    table.add_column("Détail")
    styles = {"passed": "green", "failed": "bold red", "error": "yellow"}
    for req in results["requirements"]:
        if req["status"] in ("not_tested", "not_applicable") and not req["scenarios"]:
            continue
        failures = [f"{f['check']} — attendu {f['expected']}, observé {f['observed']}"
                    for sc in req["scenarios"] for f in sc["failures"]]
        reasons = [sc["reason"] for sc in req["scenarios"] if sc["status"] == "error" and sc.get("reason")]
        style = styles.get(req["status"], "")
        table.add_row(req["id"], f"[{style}]{STATUS_LABELS[req['status']]}[/]" if style else
                      STATUS_LABELS[req["status"]], "\n".join(failures + reasons)[:800])
    console.print(table)
    counts = ", ".join(f"{STATUS_LABELS[k]} : {v}" for k, v in results["summary"].items() if v)
    console.print(f"Exigences — {counts}")
    console.print(f"Rapport : {out / 'report.html'}")
    console.print(f"Résultats : {out / 'results.json'}")



# -- selftest -----------------------------------------------------------------------------------------------
def command_selftest(args: argparse.Namespace) -> int:
    """The reference passes every automated requirement; each faulty candidate fails its own, and only it."""
    import json

    from segur_mss.candidates.spec import load_defects
    from segur_mss.selftest import RunOutcome, print_report, run_selftest, summary_of

    only = None
    if args.defauts:
        only = [d.strip() for d in args.defauts.split(",") if d.strip()]
        unknown = sorted(set(only) - set(load_defects()))
        if unknown or not only:
            raise UsageError(f"candidat(s) fautif(s) inconnu(s) : {', '.join(unknown) or '(liste vide)'}. Choix "
                             f"possibles : {', '.join(sorted(load_defects()))}")
    if args.jobs < 1 or args.temoins < 0:
        raise UsageError("--jobs attend un entier ≥ 1 et --temoins un entier ≥ 0")
    out = Path(args.out).resolve() if args.out else None
    if out is not None and out.exists() and any(out.iterdir()):
        raise UsageError(f"le dossier {out} existe déjà et n'est pas vide : choisissez-en un autre (--out)")

    def progress(outcome: RunOutcome) -> None:
        note = f" — [red]{outcome.problem}[/]" if outcome.problem else ""
        console.print(f"  {outcome.run.spec} ({', '.join(outcome.run.requirements)}) : {outcome.duration:.1f} s{note}")

    console.print(f"Auto-test segur-mss {__version__} ({'complet' if args.complet else 'rapide'}, "
                  f"{args.jobs} campagne(s) en parallèle)")
    report = run_selftest(complete=args.complet, jobs=args.jobs, controls=args.temoins, only=only, out=out,
                          progress=progress)
    print_report(report, console)
    if out is not None:
        (out / "selftest.json").write_text(json.dumps({
            "ok": report.ok, "problems": report.problems, "undiscriminated": report.undiscriminated,
            "pending": report.pending,
            "duration": round(report.duration, 2), "automated": report.automated,
            "runs": [summary_of(o) for o in (report.reference, *report.faulty)],
        }, ensure_ascii=False, indent=2), encoding="utf-8")
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
