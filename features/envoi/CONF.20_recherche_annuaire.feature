# language: fr
@SC.MSS/CONF.20
Fonctionnalité: Recherche de l'adresse du destinataire dans l'annuaire santé avant l'envoi
  Avant un envoi depuis une BAL personnelle ou organisationnelle, le logiciel permet de chercher l'adresse
  MSSanté du destinataire dans l'annuaire santé, et le courriel part à l'adresse que l'annuaire a renvoyée.
  L'annuaire de l'opérateur de référence (API FHIR à la manière de l'Annuaire Santé : Practitioner,
  PractitionerRole, Organization, BAL MSSanté en extension) journalise chaque requête : le harnais y lit ce que
  le candidat a demandé, quels critères l'annuaire a appliqués et quelles adresses il a renvoyées.
  Un logiciel que le harnais ne peut pas faire interroger cet annuaire (annuaire national câblé, écran non
  pilotable) fournit à la place une preuve attestée (capture d'écran) ; ce scénario attesté est sans objet pour
  un candidat piloté automatiquement, dont la recherche est vérifiée par le journal de l'annuaire.

  @SC.MSS/CONF.20.01 @automatique
  Scénario: Le destinataire est cherché dans l'annuaire, puis le courriel part à l'adresse trouvée
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand l'utilisateur cherche dans l'annuaire santé : nom "DURAND"
    Alors l'annuaire santé de l'opérateur a reçu la recherche du candidat
    Et le candidat propose l'adresse MSSanté de "Paul DURAND" renvoyée par l'annuaire
    Quand le candidat envoie un courriel simple à l'adresse de "Paul DURAND" trouvée dans l'annuaire
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu part à l'adresse trouvée dans l'annuaire

  @SC.MSS/CONF.20.02 @atteste
  Scénario: Recherche dans l'annuaire attestée, pour un logiciel que le harnais ne peut pas observer
    Soit le candidat ne peut pas être observé quand il interroge l'annuaire de l'opérateur de référence
    Alors une capture d'écran de la recherche du destinataire dans l'annuaire santé avant l'envoi est fournie
