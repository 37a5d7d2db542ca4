# language: fr
@SC.MSS/UX.05
Fonctionnalité: Mise à jour d'un document CDA reçu, version précédente visible
  Une demande de remplacement d'un document reçu (même setId, versionNumber supérieur, relatedDocument RPLC vers
  l'identifiant précédent) remplace le document dans le logiciel, la version précédente restant visible comme
  précédente. Une mauvaise version (900) ou un auteur non autorisé (901 : professionnel d'une autre structure que
  l'auteur) est refusé avec le MDN correspondant. L'encodage d'une suppression sur MSSanté n'est pas public : non
  couvert ici.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"
    Et un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie"
    Et le candidat a relevé sa boîte aux lettres

  @SC.MSS/UX.05.01 @automatique
  Scénario: Remplacement conforme : la nouvelle version remplace, l'ancienne reste visible
    Soit le correspondant dépose le remplacement du document précédent
    Quand le candidat relève sa boîte aux lettres
    Alors le document courant du patient "qualifie" est la version 2 et la version 1 reste visible comme précédente

  @SC.MSS/UX.05.02 @automatique
  Scénario: Remplacement avec un numéro de version non supérieur : refusé (900)
    Soit le correspondant dépose avec demande d'accusé un remplacement de même version
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 900 au format du guide ANS
    Et le document courant du patient "qualifie" est toujours la version 1

  @SC.MSS/UX.05.03 @automatique
  Scénario: Remplacement par un auteur non autorisé : refusé (901)
    Soit un autre professionnel dépose avec demande d'accusé le remplacement du document précédent
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 901 au format du guide ANS
    Et le document courant du patient "qualifie" est toujours la version 1
