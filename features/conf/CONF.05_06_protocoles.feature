# language: fr
Fonctionnalité: SMTP et IMAP standard avec STARTTLS avant toute authentification
  Le logiciel parle SMTP (RFC 5321) et IMAP4 (RFC 3501 ou RFC 9051) et passe en TLS par STARTTLS avant toute
  authentification : rien de sensible ne circule en clair. Le harnais vérifie l'ordre des commandes dans les
  transcriptions de l'opérateur.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/CONF.05 @SC.MSS/CONF.05.01 @automatique
  Scénario: SMTP : EHLO, STARTTLS, EHLO puis AUTH
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors la transcription SMTP suit l'ordre EHLO, STARTTLS, EHLO, AUTH avant tout envoi
    Et aucune commande d'authentification ni donnée de message ne circule avant TLS sur SMTP

  @SC.MSS/CONF.06 @SC.MSS/CONF.06.01 @automatique
  Scénario: IMAP : STARTTLS avant AUTHENTICATE, jamais LOGIN
    Quand le candidat relève sa boîte aux lettres
    Alors la transcription IMAP montre STARTTLS avant AUTHENTICATE
    Et aucune commande d'authentification ni donnée de message ne circule avant TLS sur IMAP
    Et le candidat n'utilise pas la commande IMAP LOGIN
