# language: fr
@SC.MSS/UX.41
Fonctionnalité: Recherche d'un correspondant par RPPS, nom, profession, spécialité et lieu d'exercice (LGC)
  Exigence propre au référentiel des logiciels de gestion de cabinet (REM LGC vague 2, connue par une source
  secondaire) : l'utilisateur cherche un correspondant dans l'annuaire santé par son RPPS, son nom, sa
  profession, sa spécialité et son lieu d'exercice, seuls ou combinés. Le catalogue la réserve aux profils LGC
  et LPS à BAL personnelle ou organisationnelle. Comme pour SC.MSS/UX.10, le harnais lit le journal de
  l'annuaire de l'opérateur de référence : chaque critère doit y parvenir et y être appliqué, et l'adresse du
  correspondant cherché doit figurer parmi celles que le candidat propose, toutes issues de l'annuaire.

  @SC.MSS/UX.41.01 @automatique
  Scénario: Recherche par RPPS
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : RPPS "81000000037"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Sophie LEROY" renvoyée par l'annuaire

  @SC.MSS/UX.41.02 @automatique
  Scénario: Recherche par nom
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : nom "LEROY"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Sophie LEROY" renvoyée par l'annuaire

  @SC.MSS/UX.41.03 @automatique
  Scénario: Recherche par profession et lieu d'exercice
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : profession "Médecin", lieu "Nantes"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Paul DURAND" renvoyée par l'annuaire

  @SC.MSS/UX.41.04 @automatique
  Scénario: Recherche par spécialité et lieu d'exercice
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : spécialité "Médecine générale", lieu "Lyon"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Claire MARTIN" renvoyée par l'annuaire

  @SC.MSS/UX.41.05 @automatique
  Scénario: Les cinq critères ensemble
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : RPPS "81000000029", nom "DURAND", profession "Médecin", spécialité "Radiologie", lieu "Nantes"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Paul DURAND" renvoyée par l'annuaire

  @SC.MSS/UX.41.06 @atteste
  Scénario: Recherche par critères attestée, pour un logiciel que le harnais ne peut pas observer
    Soit le candidat ne peut pas être observé quand il interroge l'annuaire de l'opérateur de référence
    Alors une capture d'écran de la recherche multicritère dans l'annuaire santé est fournie
