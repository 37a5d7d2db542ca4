# language: fr
@SC.MSS/UX.11
Fonctionnalité: Demandes d'accusés à l'envoi : accusé de lecture (MDN) et avis de remise (DSN) d'une PFI
  Rattachement choisi par le harnais, pas par l'ANS : ces règles n'ont pas d'identifiant Ségur vague 2 qui leur
  soit propre. La demande d'accusé de lecture quand l'utilisateur le souhaite (en-tête Disposition-Notification-To,
  Référentiel #2 ECO.2.3.2) et l'accusé de réception d'un DPI ou d'une PFI construit à partir de l'avis de
  remise du serveur destinataire (DSN, RFC 3461 à 3464, guide ANS) sont rattachés à SC.MSS/UX.11, seule exigence
  de la vague 2 qui traite des accusés : elle fait renvoyer un MDN « quand un accusé a été demandé », et c'est
  la demande faite à l'envoi, vérifiée ici, qui le rend possible ; elle vise les mêmes logiciels (PFI, DPI, RIS,
  SGL, LGC). Ces scénarios sont numérotés à partir de .51 pour les distinguer des scénarios de réception de
  SC.MSS/UX.11 ; un verdict sur eux porte sur la règle du Référentiel #2 ou du guide citée ci-dessus.
  Avis de remise : la PFI demande à l'opérateur un DSN pour chaque destinataire (NOTIFY=SUCCESS,FAILURE, RFC
  3461) ; l'opérateur de référence dépose le DSN dans la BAL de la PFI ; la PFI, en relevant sa BAL, en fait
  l'accusé de réception du document pour le logiciel producteur (remis ou non remis, par destinataire). La forme
  de cet accusé côté producteur (ACK HL7v2…) n'est pas publique : le harnais lit ce que l'adaptateur en rapporte.

  @SC.MSS/UX.11.51 @automatique
  Scénario: L'utilisateur demande un accusé de lecture : le courriel le demande à la BAL émettrice
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant" avec demande d'accusé de lecture
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu demande un accusé de lecture à la BAL émettrice

  @SC.MSS/UX.11.52 @automatique
  Scénario: Un document envoyé avec demande d'accusé de lecture le demande à la BAL émettrice
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie le document "CR-BIO" du patient "qualifie" à "correspondant" avec demande d'accusé de lecture
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu demande un accusé de lecture à la BAL émettrice

  @SC.MSS/UX.11.53 @automatique
  Scénario: Sans demande de l'utilisateur, le courriel ne demande pas d'accusé de lecture
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu ne porte pas l'en-tête "Disposition-Notification-To"

  @SC.MSS/UX.11.54 @automatique
  Scénario: La PFI demande un avis de remise et en fait l'accusé de réception du producteur
    Soit l'opérateur de référence est démarré
    Et le candidat joue le rôle de PFI ou de DPI
    Et le candidat est connecté à la BAL "applicative"
    Quand le producteur transmet à la PFI un message HL7v2 d'envoi du document "CR-BIO" du patient "qualifie" à "correspondant"
    Alors la PFI demande à l'opérateur un avis de remise pour chaque destinataire
    Et l'opérateur dépose son avis de remise dans la BAL de la PFI
    Quand le candidat relève sa boîte aux lettres
    Alors l'accusé de réception de la PFI au producteur dit "remis" pour "correspondant"

  @SC.MSS/UX.11.55 @automatique
  Scénario: Remise impossible : l'accusé de réception de la PFI au producteur le dit
    Soit l'opérateur de référence est démarré
    Et le candidat joue le rôle de PFI ou de DPI
    Et le candidat est connecté à la BAL "applicative"
    Et l'opérateur ne peut pas remettre les courriels adressés à "correspondant"
    Quand le producteur transmet à la PFI un message HL7v2 d'envoi du document "CR-BIO" du patient "qualifie" à "correspondant"
    Alors la PFI demande à l'opérateur un avis de remise pour chaque destinataire
    Et l'opérateur dépose son avis de remise dans la BAL de la PFI
    Quand le candidat relève sa boîte aux lettres
    Alors l'accusé de réception de la PFI au producteur dit "non remis" pour "correspondant"
