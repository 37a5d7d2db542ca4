# language: fr
@SC.MSS/UX.07
Fonctionnalité: Intégration automatique sur INS qualifiée
  Un document reçu est intégré automatiquement au dossier du patient quand son INS qualifiée (avec ses traits)
  correspond exactement à un patient connu du logiciel. Sinon (INS inconnue, traits différents, INS absente,
  traits incomplets), il n'est pas intégré automatiquement et part en traitement manuel. Le patient inconnu est
  une identité synthétique que le harnais n'annonce jamais au candidat (INS qualifiée, traits complets).

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"

  @SC.MSS/UX.07.01 @automatique
  Scénario: INS qualifiée identique à un patient connu : intégration automatique
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie"
    Quand le candidat relève sa boîte aux lettres
    Alors le document déposé est intégré automatiquement au dossier du patient "qualifie"

  @SC.MSS/UX.07.02 @automatique
  Scénario: INS qualifiée d'un patient inconnu du logiciel : pas d'intégration automatique
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" d'un patient dont l'INS qualifiée est inconnue du candidat
    Quand le candidat relève sa boîte aux lettres
    Alors le document déposé n'est pas intégré automatiquement et attend un traitement manuel

  @SC.MSS/UX.07.03 @automatique
  Scénario: Document sans INS : pas d'intégration automatique
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "sans_ins"
    Quand le candidat relève sa boîte aux lettres
    Alors le document déposé n'est pas intégré automatiquement et attend un traitement manuel

  @SC.MSS/UX.07.04 @automatique
  Scénario: INS aux traits incomplets : pas d'intégration automatique
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "traits_incomplets"
    Quand le candidat relève sa boîte aux lettres
    Alors le document déposé n'est pas intégré automatiquement et attend un traitement manuel

  @SC.MSS/UX.07.05 @automatique
  Scénario: INS d'un patient connu mais traits différents : pas d'intégration automatique
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie" avec une date de naissance différente
    Quand le candidat relève sa boîte aux lettres
    Alors le document déposé n'est pas intégré automatiquement et attend un traitement manuel
