# language: fr
@SC.MSS/CONF.24
Fonctionnalité: Fermeture du canal avec le patient quand le document passe par une PFI
  Le texte de cette exigence n'est pas public : seul son regroupement avec SC.MSS/CONF.21 est connu
  (« fermeture du canal d'échange avec le patient, avec ou sans PFI », atelier éditeurs RIS de l'ANS, avril
  2025) ; le catalogue la marque « regroupement ». Le harnais vérifie la règle publique du guide ANS
  « Transmission d'un document CDA-R2 en HL7v2 » : le logiciel producteur (DPI, RIS, SGL) demande l'envoi au
  patient par un OBX DESTMSSANTEPAT = Y, et la fin d'échange par la NTE « FIN » qui le suit ; la plateforme
  d'intermédiation (PFI) qui reçoit ce message pose X-MSS-MES: FIN (trois capitales) sur le courriel adressé à
  la messagerie de Mon espace santé du patient. Le harnais joue le producteur : il remet le message HL7v2 à la
  PFI par l'adaptateur (le message est joint au dossier). L'opérateur de référence se comporte comme Mon espace
  santé : il refuse la réponse du patient à un courriel qui portait X-MSS-MES: FIN.

  @SC.MSS/CONF.24.01 @automatique
  Scénario: Le producteur demande la fin d'échange : le courriel au patient porte X-MSS-MES: FIN
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "applicative"
    Quand le producteur transmet à la PFI un message HL7v2 d'envoi du document "CR-BIO" du patient "qualifie" à "correspondant" et au patient avec fin d'échange
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu est adressé à la messagerie du patient construite depuis son INS qualifiée
    Et l'en-tête X-MSS-MES du courriel reçu vaut exactement "FIN"
    Et la réponse du patient à ce courriel est refusée par l'opérateur

  @SC.MSS/CONF.24.02 @automatique
  Scénario: Sans fin d'échange dans le message du producteur : pas de X-MSS-MES et le patient peut répondre
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "applicative"
    Quand le producteur transmet à la PFI un message HL7v2 d'envoi du document "CR-BIO" du patient "qualifie" à "correspondant" et au patient sans fin d'échange
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu est adressé à la messagerie du patient construite depuis son INS qualifiée
    Et le courriel reçu ne porte pas l'en-tête "X-MSS-MES"
    Et la réponse du patient à ce courriel est acceptée par l'opérateur
