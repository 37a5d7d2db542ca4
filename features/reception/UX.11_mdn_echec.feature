# language: fr
@SC.MSS/UX.11
Fonctionnalité: Accusé MDN en cas d'échec d'intégration
  Quand l'intégration d'un document reçu échoue et que l'expéditeur a demandé un accusé
  (Disposition-Notification-To), le logiciel renvoie un MDN au format du guide ANS : multipart/report en trois
  parties, « processed/Error: <code>^<libellé> », objet « [KO Intégration système !][<code>] … », message
  original joint, Final-Recipient = la BAL qui a traité. Pas de MDN automatique quand Disposition-Notification-To
  diffère de Return-Path, ni sans demande. Un MDN de succès quand l'intégration réussit et qu'un accusé était
  demandé. Chaque code est provoqué par un courriel construit pour lui : 902 INS qualifiée d'un patient inconnu,
  903 document sans INS, 904 INS d'un patient connu avec une date de naissance différente, 905 INS sans lieu de
  naissance, 906 archive IHE_XDM.zip illisible ; 900 et 901 (remplacements) sont vérifiés par SC.MSS/UX.05.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"

  @SC.MSS/UX.11.01 @automatique
  Scénario: Échec d'intégration 902 (identifiant patient inconnu) : MDN d'erreur au format ANS
    Soit un correspondant dépose avec demande d'accusé un courriel provoquant l'erreur 902
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 902 au format du guide ANS

  @SC.MSS/UX.11.02 @automatique
  Scénario: Échec d'intégration 903 (INS absente du document) : MDN d'erreur au format ANS
    Soit un correspondant dépose avec demande d'accusé un courriel provoquant l'erreur 903
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 903 au format du guide ANS

  @SC.MSS/UX.11.03 @automatique
  Scénario: Échec d'intégration 904 (INS non concordante) : MDN d'erreur au format ANS
    Soit un correspondant dépose avec demande d'accusé un courriel provoquant l'erreur 904
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 904 au format du guide ANS

  @SC.MSS/UX.11.04 @automatique
  Scénario: Échec d'intégration 905 (INS aux traits incomplets) : MDN d'erreur au format ANS
    Soit un correspondant dépose avec demande d'accusé un courriel provoquant l'erreur 905
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 905 au format du guide ANS

  @SC.MSS/UX.11.05 @automatique
  Scénario: Intégration réussie avec demande d'accusé : MDN de succès
    Soit un correspondant dépose avec demande d'accusé le document "CR-BIO" du patient "qualifie"
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN de succès « processed »

  @SC.MSS/UX.11.06 @automatique
  Scénario: Disposition-Notification-To différent de Return-Path : pas de MDN automatique
    Soit un correspondant dépose un courriel provoquant l'erreur 904 dont l'accusé est demandé pour une autre adresse
    Quand le candidat relève sa boîte aux lettres
    Alors aucun MDN automatique n'est envoyé

  @SC.MSS/UX.11.07 @automatique
  Scénario: Échec d'intégration 906 (archive illisible) : MDN d'erreur au format ANS
    Soit un correspondant dépose avec demande d'accusé un courriel provoquant l'erreur 906
    Quand le candidat relève sa boîte aux lettres
    Alors le correspondant reçoit un MDN d'erreur 906 au format du guide ANS

  @SC.MSS/UX.11.08 @automatique
  Scénario: Échec d'intégration sans demande d'accusé : pas d'accusé
    Soit un correspondant dépose sans demande d'accusé un courriel provoquant l'erreur 903
    Quand le candidat relève sa boîte aux lettres
    Alors aucun accusé n'est envoyé
