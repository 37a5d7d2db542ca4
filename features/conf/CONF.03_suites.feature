# language: fr
@SC.MSS/CONF.03
Fonctionnalité: Suites de chiffrement autorisées
  Le logiciel n'utilise que des suites de chiffrement autorisées. La liste officielle n'est pas publique : le
  harnais applique une liste configurable (par défaut : suites TLS 1.2 recommandées par l'ANSSI et suites
  TLS 1.3), affichée dans le rapport avec la suite négociée de chaque connexion.

  Contexte:
    Soit l'opérateur de référence est démarré

  @SC.MSS/CONF.03.01 @automatique
  Scénario: Les suites négociées par le candidat sont dans la liste autorisée
    Soit le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant"
    Et le candidat relève sa boîte aux lettres
    Alors chaque connexion du candidat a négocié une suite de chiffrement autorisée

  @SC.MSS/CONF.03.02 @automatique
  Scénario: Face à un serveur n'offrant que des suites faibles, le candidat refuse de poursuivre
    Soit l'opérateur ne propose plus que des suites de chiffrement faibles
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Et le candidat tente d'envoyer un courriel simple à "correspondant"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message
