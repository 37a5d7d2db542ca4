# language: fr
@SC.MSS/UX.40
Fonctionnalité: Informer les utilisateurs des nouveaux documents intégrés
  L'utilisateur est informé de la présence de nouveaux documents intégrés automatiquement depuis un courriel
  MSSanté (regroupement de l'atelier RIS avec UX.07 ; texte non public). Vérification automatique quand
  l'adaptateur rend les notifications présentées aux utilisateurs, preuve attestée (capture d'écran) sinon.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"

  @SC.MSS/UX.40.01 @automatique
  Scénario: Un document intégré automatiquement est signalé aux utilisateurs
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie"
    Quand le candidat relève sa boîte aux lettres
    Alors les utilisateurs sont informés du nouveau document intégré
