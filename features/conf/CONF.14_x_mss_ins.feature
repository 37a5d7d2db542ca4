# language: fr
@SC.MSS/CONF.14
Fonctionnalité: En-tête X-MSS-INS sur les courriels porteurs de documents CDA
  Un courriel qui porte un document CDA dans une archive IHE_XDM porte l'en-tête X-MSS-INS : « O » quand le
  document contient une INS avec tous ses traits d'identité obligatoires (seule une identité qualifiée peut
  porter l'INS), « N » sinon. L'en-tête est absent d'un courriel sans document CDA. Le harnais déduit la valeur
  attendue du document CDA contenu dans l'archive que le candidat a réellement envoyée.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/CONF.14.01 @automatique
  Scénario: Document d'un patient à l'INS qualifiée : X-MSS-INS vaut O
    Quand le candidat envoie le document "CR-BIO" du patient "qualifie" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et l'en-tête X-MSS-INS du courriel reçu vaut "O"
    Et l'en-tête X-MSS-INS du courriel reçu correspond à l'identité du patient dans le document CDA

  @SC.MSS/CONF.14.02 @automatique
  Scénario: Document d'un patient sans INS (IPP local seulement) : X-MSS-INS vaut N
    Quand le candidat envoie le document "CR-BIO" du patient "sans_ins" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et l'en-tête X-MSS-INS du courriel reçu vaut "N"
    Et l'en-tête X-MSS-INS du courriel reçu correspond à l'identité du patient dans le document CDA

  @SC.MSS/CONF.14.03 @automatique
  Scénario: Document avec une INS dont des traits obligatoires manquent : X-MSS-INS vaut N
    Quand le candidat envoie le document "CR-BIO" du patient "traits_incomplets" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et l'en-tête X-MSS-INS du courriel reçu vaut "N"
    Et l'en-tête X-MSS-INS du courriel reçu correspond à l'identité du patient dans le document CDA

  @SC.MSS/CONF.14.04 @automatique
  Scénario: Courriel sans document CDA : pas d'en-tête X-MSS-INS
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu ne porte pas l'en-tête "X-MSS-INS"
