# language: fr
@SC.MSS/CONF.28
Fonctionnalité: Le jeton d'accès Pro Santé Connect n'est jamais mémorisé durablement
  Le jeton d'accès n'est jamais enregistré de façon permanente. Partie automatique : après la session, le
  harnais cherche les jetons émis pendant la campagne dans les emplacements de stockage que le candidat
  déclare et dans son dossier de travail. Partie attestée : déclaration de l'éditeur pour ce que le harnais ne
  peut pas inspecter (base de données, registre…).

  @SC.MSS/CONF.28.01 @automatique
  Scénario: Aucun jeton d'accès émis ne se trouve dans le stockage du candidat
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant"
    Et le candidat ferme sa session
    Alors aucun jeton d'accès émis pendant le scénario ne se trouve dans le stockage déclaré par le candidat

  @SC.MSS/CONF.28.02 @atteste
  Scénario: Déclaration de l'éditeur sur la conservation du jeton
    Soit l'opérateur de référence est démarré
    Alors une déclaration de l'éditeur sur la non-conservation du jeton d'accès est fournie
