# language: fr
@SC.MSS/CONF.01
Fonctionnalité: TLS 1.2 minimum sur toute connexion à l'opérateur
  Toute connexion du logiciel à l'opérateur MSSanté (SMTP, IMAP) est chiffrée en TLS 1.2 ou supérieur. Le
  harnais relève la version négociée de chaque connexion ; face à un serveur qui ne propose que TLS 1.0 ou 1.1,
  le logiciel doit refuser de poursuivre (aucune authentification, aucun message).

  Contexte:
    Soit l'opérateur de référence est démarré

  @SC.MSS/CONF.01.01 @automatique
  Scénario: Les connexions SMTP et IMAP du candidat sont en TLS 1.2 ou plus
    Soit le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant"
    Et le candidat relève sa boîte aux lettres
    Alors chaque connexion du candidat à l'opérateur a négocié TLS 1.2 ou plus

  @SC.MSS/CONF.01.02 @automatique
  Scénario: Face à un serveur limité à TLS 1.0/1.1, le candidat refuse de poursuivre
    Soit l'opérateur ne propose plus que TLS 1.0 et TLS 1.1
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Et le candidat tente d'envoyer un courriel simple à "correspondant"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message
