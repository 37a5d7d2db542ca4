# language: fr
@SC.MSS/CONF.27
Fonctionnalité: BAL applicative : certificat IGC Santé Organisation, IGC Santé seule autorité acceptée
  Pour une BAL applicative, le logiciel s'authentifie par un certificat client IGC Santé gamme élémentaire de
  type Organisation, et n'accepte côté serveur qu'un certificat émis par IGC Santé, valide et au bon nom.

  Contexte:
    Soit l'opérateur de référence est démarré

  @SC.MSS/CONF.27.01 @automatique
  Scénario: Authentification par certificat Organisation sur la BAL applicative
    Soit le candidat est connecté à la BAL "applicative"
    Quand le candidat relève sa boîte aux lettres
    Alors la BAL applicative a été ouverte par certificat client IGC Santé (SASL EXTERNAL)

  @SC.MSS/CONF.27.02 @automatique
  Scénario: Certificat serveur émis par une autorité non reconnue : le candidat refuse
    Soit l'opérateur présente un certificat émis par une autorité non reconnue
    Quand le candidat tente de se connecter à la BAL "applicative"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message

  @SC.MSS/CONF.27.03 @automatique
  Scénario: Certificat serveur expiré : le candidat refuse
    Soit l'opérateur présente un certificat expiré
    Quand le candidat tente de se connecter à la BAL "applicative"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message

  @SC.MSS/CONF.27.04 @automatique
  Scénario: Certificat serveur à un autre nom : le candidat refuse
    Soit l'opérateur présente un certificat dont le nom ne correspond pas au serveur
    Quand le candidat tente de se connecter à la BAL "applicative"
    Alors aucune connexion du candidat n'aboutit à une authentification ni à un message
