# language: fr
@SC.MSS/UX.31
Fonctionnalité: Afficher l'identité du patient plutôt que son adresse de messagerie
  Le logiciel affiche le nom de naissance, le prénom et l'INS du patient plutôt que l'adresse brute de sa
  messagerie de Mon espace santé (<INS>@patient.mssante.fr) (résumé du REM LGC, ECO.3.1.2). Preuve attestée : le
  patient « qualifie », connu du logiciel, écrit depuis Mon espace santé ; la personne qui pilote le logiciel
  fournit une capture d'écran du courriel reçu où l'expéditeur s'affiche par son identité. Le courriel déposé est
  joint au dossier.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"

  @SC.MSS/UX.31.01 @atteste
  Scénario: Le courriel d'un patient montre son nom, son prénom et son INS
    Soit le patient "qualifie" écrit depuis Mon espace santé dans la BAL du candidat
    Quand le candidat relève sa boîte aux lettres
    Alors une capture d'écran montrant le nom, le prénom et l'INS du patient à la place de son adresse est fournie
