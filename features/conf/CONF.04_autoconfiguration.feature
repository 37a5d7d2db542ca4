# language: fr
@SC.MSS/CONF.04
Fonctionnalité: Configuration automatique de la BAL
  À partir de la seule adresse de la BAL, le logiciel trouve les serveurs et ports IMAP et SMTP. La méthode
  n'est pas publique : l'opérateur de référence publie un fichier autoconfig (Mozilla) pour le domaine de test.

  @SC.MSS/CONF.04.01 @automatique
  Scénario: Le candidat se configure à partir de l'adresse de la BAL seule
    Soit l'opérateur de référence est démarré
    Quand le candidat se configure automatiquement pour la BAL "emetteur"
    Alors l'opérateur a reçu une demande de configuration automatique pour cette adresse
    Et la configuration trouvée par le candidat désigne les serveurs IMAP et SMTP de l'opérateur
