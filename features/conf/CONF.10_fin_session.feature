# language: fr
@SC.MSS/CONF.10
Fonctionnalité: Fin de session quand le rafraîchissement Pro Santé Connect échoue
  Quand le jeton de rafraîchissement Pro Santé Connect est révoqué ou expiré, le logiciel met fin à ses
  sessions de messagerie (LOGOUT IMAP, connexion fermée), ne retente plus d'authentification avec un jeton
  périmé et demande à l'utilisateur de se reconnecter. L'horloge de l'opérateur est avancée par le harnais :
  aucune attente réelle.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat maintient une session IMAP ouverte

  @SC.MSS/CONF.10.01 @automatique
  Scénario: Jeton de rafraîchissement révoqué
    Quand Pro Santé Connect révoque le jeton de rafraîchissement du professionnel
    Et le jeton d'accès du candidat expire
    Et le candidat poursuit son activité de messagerie
    Alors le candidat a fermé ses sessions de messagerie
    Et le candidat n'a plus tenté de s'authentifier avec un jeton périmé
    Et le candidat demande à l'utilisateur de se reconnecter

  @SC.MSS/CONF.10.02 @automatique
  Scénario: Jeton de rafraîchissement expiré
    Quand le jeton de rafraîchissement du professionnel expire
    Et le candidat poursuit son activité de messagerie
    Alors le candidat a fermé ses sessions de messagerie
    Et le candidat n'a plus tenté de s'authentifier avec un jeton périmé
    Et le candidat demande à l'utilisateur de se reconnecter
