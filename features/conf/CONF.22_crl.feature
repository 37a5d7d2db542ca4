# language: fr
@SC.MSS/CONF.22
Fonctionnalité: Liste de révocation du certificat de l'opérateur
  Le logiciel vérifie que le certificat du serveur n'est pas révoqué (liste de révocation publiée par
  l'autorité au point de distribution inscrit dans le certificat) et conserve la dernière liste non expirée
  quand le point de distribution est injoignable ; sans liste valide, il refuse la connexion.
  Limite connue : la liste garde des dates réelles (le candidat la juge avec sa propre horloge), le harnais ne
  fait donc pas expirer une liste déjà en cache chez le candidat ; il vérifie le refus d'une liste publiée
  expirée et le refus sans aucune liste.

  Contexte:
    Soit l'opérateur de référence est démarré

  @SC.MSS/CONF.22.01 @automatique
  Scénario: Certificat de l'opérateur révoqué : le candidat refuse
    Soit l'opérateur présente un certificat révoqué
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message

  @SC.MSS/CONF.22.02 @automatique
  Scénario: Point de distribution injoignable, dernière liste encore valide : le candidat l'utilise
    Soit le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant"
    Et le point de distribution de la liste de révocation devient injoignable
    Et le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 2 courriels du candidat
    Et le candidat a téléchargé la liste de révocation de l'autorité avant la coupure

  @SC.MSS/CONF.22.03 @automatique
  Scénario: Liste de révocation publiée expirée : le candidat refuse
    Soit la liste de révocation publiée par l'autorité est expirée
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message

  @SC.MSS/CONF.22.04 @automatique
  Scénario: Point de distribution injoignable et aucune liste valide : le candidat refuse
    Soit le point de distribution de la liste de révocation est injoignable
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message
