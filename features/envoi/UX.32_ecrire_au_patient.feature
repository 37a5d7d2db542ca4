# language: fr
@SC.MSS/UX.32
Fonctionnalité: Écrire à un patient depuis son dossier
  Exigence du référentiel des logiciels de gestion de cabinet (REM LGC vague 2, ECO.3.1.5, connue par une source
  secondaire) : depuis le dossier d'un patient, l'utilisateur peut écrire à ce patient sur sa messagerie de Mon
  espace santé ; le logiciel trouve lui-même l'adresse (<INS>@patient.mssante.fr), construite à partir de l'INS
  qualifiée du dossier, sans la faire saisir. Vérification observée : l'utilisateur écrit au patient depuis son
  dossier (consigne de l'adaptateur manuel, ou action de l'adaptateur), le harnais juge le courriel reçu par
  l'opérateur ; et attestée : une capture d'écran montre que le courriel est écrit depuis le dossier du patient.
  Sans session manuelle (intégration continue, candidat automatique), la capture reste « preuve attendue ».

  @SC.MSS/UX.32.01 @observe
  Scénario: L'utilisateur écrit au patient depuis son dossier : le courriel part à sa messagerie Mon espace santé
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur écrit au patient "qualifie" depuis son dossier patient
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu est adressé à la messagerie du patient construite depuis son INS qualifiée
    Et une capture d'écran du dossier du patient d'où le courriel a été écrit est fournie

  @SC.MSS/UX.32.02 @observe
  Scénario: Sans INS qualifiée dans le dossier, le logiciel ne construit pas d'adresse patient
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur tente d'écrire au patient "traits_incomplets" depuis son dossier patient
    Alors l'opérateur ne reçoit aucun courriel adressé à la messagerie d'un patient
