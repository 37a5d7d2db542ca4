# language: fr
@SC.MSS/CONF.21
Fonctionnalité: Fermeture du canal d'échange avec le patient (X-MSS-MES: FIN)
  Sur un courriel adressé à la messagerie de Mon espace santé d'un patient (<INS>@patient.mssante.fr), le
  logiciel peut poser l'en-tête X-MSS-MES avec la valeur FIN (trois capitales) pour que le patient ne puisse
  pas répondre. L'adresse du patient n'est construite qu'à partir d'une INS qualifiée. L'opérateur de référence
  se comporte comme Mon espace santé : il refuse la réponse du patient à un courriel qui portait X-MSS-MES: FIN.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/CONF.21.01 @automatique
  Scénario: Envoi au patient avec fin d'échange : X-MSS-MES vaut FIN et le patient ne peut pas répondre
    Quand le candidat envoie le document "CR-BIO" au patient "qualifie" avec fin d'échange
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu est adressé à la messagerie du patient construite depuis son INS qualifiée
    Et l'en-tête X-MSS-MES du courriel reçu vaut exactement "FIN"
    Et la réponse du patient à ce courriel est refusée par l'opérateur

  @SC.MSS/CONF.21.02 @automatique
  Scénario: Envoi au patient sans fin d'échange : pas de X-MSS-MES et le patient peut répondre
    Quand le candidat envoie le document "CR-BIO" au patient "qualifie" sans fin d'échange
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu ne porte pas l'en-tête "X-MSS-MES"
    Et la réponse du patient à ce courriel est acceptée par l'opérateur

  @SC.MSS/CONF.21.03 @automatique
  Scénario: Pas d'adresse patient sans INS qualifiée
    Quand le candidat tente d'envoyer le document "CR-BIO" au patient "traits_incomplets"
    Alors l'opérateur ne reçoit aucun courriel adressé à la messagerie d'un patient
