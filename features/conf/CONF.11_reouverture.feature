# language: fr
@SC.MSS/CONF.11
Fonctionnalité: Réouverture automatique des sessions IMAP et SMTP
  Tant que la session Pro Santé Connect est valide, le logiciel rouvre de lui-même une session IMAP ou SMTP
  fermée par le serveur (BYE, 421), avec un jeton d'accès frais, dans le délai configuré, sans action de
  l'utilisateur.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat maintient une session IMAP ouverte

  @SC.MSS/CONF.11.01 @automatique
  Scénario: Session IMAP fermée par le serveur (BYE) : réouverte avec un jeton d'accès frais
    Quand l'opérateur ferme la session IMAP du candidat par BYE
    Et le candidat poursuit son activité de messagerie
    Alors le candidat a rouvert une session IMAP authentifiée dans le délai configuré
    Et le jeton présenté à la réouverture est un nouveau jeton d'accès

  @SC.MSS/CONF.11.02 @automatique
  Scénario: Connexion IMAP coupée sans préavis : réouverte par le candidat
    Quand l'opérateur coupe la connexion IMAP du candidat sans préavis
    Et le candidat poursuit son activité de messagerie
    Alors le candidat a rouvert une session IMAP authentifiée dans le délai configuré

  @SC.MSS/CONF.11.03 @automatique
  Scénario: Connexion SMTP refusée par le serveur (421) puis envoi suivant
    Soit l'opérateur répond 421 à la prochaine connexion SMTP
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
