# language: fr
@SC.MSS/UX.39
Fonctionnalité: Importer manuellement un document reçu depuis l'enveloppe XDM
  Regroupement de l'atelier RIS (ANS) avec UX.38 ; le découpage exact entre UX.38 et UX.39 n'est pas public : ce
  harnais rattache à UX.39 l'import manuel, par l'utilisateur, d'un document qui n'a pas pu être intégré
  automatiquement, dans le dossier du patient qu'il choisit, à l'aide des métadonnées de l'enveloppe IHE_XDM
  (hypothèse, à remplacer par le texte officiel du REM). Vérification automatique quand l'adaptateur sait importer
  et rendre sa liste de documents, preuve attestée (capture d'écran ou vidéo) sinon.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"

  @SC.MSS/UX.39.01 @automatique
  Scénario: Un document reçu sans INS est importé à la main dans le dossier du patient
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie" sans son INS
    Quand le candidat relève sa boîte aux lettres
    Alors le document déposé n'est pas intégré automatiquement et attend un traitement manuel
    Quand l'utilisateur importe manuellement le document mis de côté dans le dossier du patient "qualifie"
    Alors le document importé figure au dossier du patient "qualifie" avec les métadonnées de l'enveloppe XDM
