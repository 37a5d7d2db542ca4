# language: fr
@SC.MSS/UX.38
Fonctionnalité: Informer les utilisateurs des documents mis à jour
  Regroupement de l'atelier RIS (ANS) : UX.38 et UX.39 couvrent ensemble « informer les utilisateurs et les
  correspondants des documents nouveaux ou mis à jour » et « importer manuellement les CDA de l'enveloppe IHE_XDM
  à l'aide de ses métadonnées ». Le découpage exact entre UX.38 et UX.39 n'est pas public : ce harnais rattache
  l'information des utilisateurs sur un document mis à jour à UX.38 et l'import manuel à UX.39 (hypothèse, à
  remplacer par le texte officiel du REM). L'information des correspondants n'est pas vérifiée (règle non
  publique). Vérification automatique quand l'adaptateur rend les notifications présentées aux utilisateurs,
  preuve attestée (capture d'écran) sinon.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"
    Et un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie"
    Et le candidat a relevé sa boîte aux lettres

  @SC.MSS/UX.38.01 @automatique
  Scénario: Un document remplacé par une nouvelle version est signalé aux utilisateurs
    Soit le correspondant dépose le remplacement du document précédent
    Quand le candidat relève sa boîte aux lettres
    Alors les utilisateurs sont informés de la mise à jour du document
