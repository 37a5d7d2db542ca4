# language: fr
@SC.MSS/CONF.11
Fonctionnalité: Réouverture automatique des sessions IMAP et SMTP
  Tant que la session Pro Santé Connect est valide, le logiciel rouvre de lui-même une session IMAP ou SMTP
  fermée par le serveur (BYE, 421, coupure), avec un jeton d'accès frais, dans le délai configuré, sans action
  de l'utilisateur. La panne est armée avant l'ouverture de la session IMAP que le candidat garde ouverte :
  l'opérateur la ferme à la 7e commande du candidat (après CAPABILITY, STARTTLS, CAPABILITY, AUTHENTICATE,
  SELECT et une première interrogation).

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/CONF.11.01 @automatique
  Scénario: Session IMAP fermée par le serveur (BYE) : réouverte avec un jeton d'accès frais
    Soit l'opérateur fermera par BYE la session IMAP que le candidat va ouvrir
    Et le candidat maintient une session IMAP ouverte
    Quand le candidat poursuit son activité sur cette session
    Alors le candidat a rouvert une session IMAP authentifiée dans le délai configuré
    Et le jeton présenté à la réouverture est un nouveau jeton d'accès

  @SC.MSS/CONF.11.02 @automatique
  Scénario: Session IMAP reprise avec un jeton d'accès frais après expiration
    Soit l'opérateur fermera par BYE la session IMAP que le candidat va ouvrir
    Et le candidat maintient une session IMAP ouverte
    Quand le jeton d'accès du candidat expire
    Et le candidat poursuit son activité sur cette session
    Alors le candidat a rouvert une session IMAP authentifiée dans le délai configuré
    Et le jeton présenté à la réouverture est un nouveau jeton d'accès

  @SC.MSS/CONF.11.03 @automatique
  Scénario: Connexion SMTP refusée par le serveur (421) puis envoi suivant
    Soit l'opérateur répond 421 à la prochaine connexion SMTP
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le candidat a rouvert une session SMTP authentifiée dans le délai configuré
    Et le jeton présenté à la réouverture est un nouveau jeton d'accès

  @SC.MSS/CONF.11.04 @automatique
  Scénario: Connexion IMAP coupée sans préavis : réouverte par le candidat
    Soit l'opérateur coupera sans préavis la connexion IMAP que le candidat va ouvrir
    Et le candidat maintient une session IMAP ouverte
    Quand le candidat poursuit son activité sur cette session
    Alors le candidat a rouvert une session IMAP authentifiée dans le délai configuré
