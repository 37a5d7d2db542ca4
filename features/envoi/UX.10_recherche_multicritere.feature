# language: fr
@SC.MSS/UX.10
Fonctionnalité: Recherche multicritère d'un correspondant dans l'annuaire santé
  Le texte de l'exigence n'est pas public : seul son intitulé de regroupement est connu (« recherche
  multicritère de l'adresse d'un correspondant dans l'annuaire MSSanté », atelier éditeurs RIS de l'ANS, avril
  2025). Le harnais vérifie que chaque critère saisi par l'utilisateur (nom, profession, spécialité, lieu
  d'exercice) parvient à l'annuaire et y est appliqué (un paramètre que l'annuaire ignore ne compte pas), que
  les adresses proposées sont celles que l'annuaire a renvoyées, et que celle du correspondant cherché y figure.
  Preuve attestée (capture d'écran du formulaire de recherche) pour un logiciel que le harnais ne peut pas
  observer ; sans objet pour un candidat piloté automatiquement.

  @SC.MSS/UX.10.01 @automatique
  Scénario: Nom, profession, spécialité et lieu d'exercice combinés
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : nom "DURAND", profession "Médecin", spécialité "Radiologie", lieu "Nantes"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Paul DURAND" renvoyée par l'annuaire

  @SC.MSS/UX.10.02 @automatique
  Scénario: Profession, spécialité et lieu d'exercice sans le nom
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : profession "Médecin", spécialité "Biologie médicale", lieu "Lille"
    Alors l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche
    Et le candidat propose l'adresse MSSanté de "Sophie LEROY" renvoyée par l'annuaire

  @SC.MSS/UX.10.03 @atteste
  Scénario: Recherche multicritère attestée, pour un logiciel que le harnais ne peut pas observer
    Soit le candidat ne peut pas être observé quand il interroge l'annuaire de l'opérateur de référence
    Alors une capture d'écran de la recherche multicritère dans l'annuaire santé est fournie
