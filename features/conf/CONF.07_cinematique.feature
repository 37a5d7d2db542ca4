# language: fr
@SC.MSS/CONF.07
Fonctionnalité: Cinématique de connexion : TLS puis SASL XOAUTH2 avec le jeton Pro Santé Connect
  Pour une BAL personnelle ou organisationnelle, le logiciel ouvre TLS puis s'authentifie en SASL XOAUTH2
  avec le jeton d'accès délivré par Pro Santé Connect au professionnel. Le harnais vérifie que le jeton
  présenté est bien celui émis pour ce professionnel et note le mécanisme employé (l'acceptation
  d'OAUTHBEARER par les opérateurs n'est pas confirmée publiquement).

  Contexte:
    Soit l'opérateur de référence est démarré

  @SC.MSS/CONF.07.01 @automatique
  Scénario: BAL personnelle : XOAUTH2 avec le jeton PSC du titulaire
    Soit le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant"
    Et le candidat tente de relever sa boîte aux lettres
    Alors chaque authentification du candidat utilise SASL XOAUTH2 après TLS
    Et le candidat n'utilise pas la commande IMAP LOGIN
    Et chaque jeton présenté a été émis par Pro Santé Connect pour le professionnel titulaire de la BAL

  @SC.MSS/CONF.07.02 @automatique
  Scénario: BAL organisationnelle : XOAUTH2 avec le jeton PSC d'un membre habilité
    Soit le candidat est connecté à la BAL "organisation"
    Quand le candidat tente de relever sa boîte aux lettres
    Alors chaque authentification du candidat utilise SASL XOAUTH2 après TLS
    Et chaque jeton présenté a été émis par Pro Santé Connect pour le professionnel titulaire de la BAL
