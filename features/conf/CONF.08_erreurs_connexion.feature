# language: fr
@SC.MSS/CONF.08
Fonctionnalité: Une erreur de connexion ne perturbe pas le reste du logiciel
  Une erreur de connexion à l'opérateur (authentification refusée, coupure) n'empêche pas les autres fonctions
  du logiciel, et l'erreur est signalée à l'utilisateur. Partie automatique : après l'erreur, le candidat
  exécute encore ses autres actions (ici la recherche dans l'annuaire). Partie attestée : capture de l'écran
  qui montre l'erreur à l'utilisateur.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et l'opérateur refuse toute authentification

  @SC.MSS/CONF.08.01 @automatique
  Scénario: Après une authentification refusée, les autres fonctions restent disponibles
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Et le candidat recherche dans l'annuaire un "Médecin" nommé "DURAND"
    Alors la recherche dans l'annuaire a abouti malgré l'erreur de connexion
    Et le candidat signale l'erreur de connexion à l'utilisateur

  @SC.MSS/CONF.08.02 @atteste
  Scénario: L'erreur de connexion est montrée à l'utilisateur (capture d'écran)
    Quand le candidat tente de se connecter à la BAL "emetteur"
    Alors une capture d'écran du message d'erreur présenté à l'utilisateur est fournie
