# language: fr
@SC.MSS/CONF.15
Fonctionnalité: En-tête X-MSS-CODECDA sur les courriels porteurs de documents CDA
  Un courriel dont la pièce jointe IHE_XDM contient des documents CDA porte X-MSS-CODECDA avec le code
  (ClinicalDocument/code/@code) de chaque document ; l'en-tête est absent sans document CDA. Le séparateur
  des valeurs multiples n'est pas public : le harnais accepte un en-tête répété ou une liste séparée par des
  virgules et indique dans le rapport la forme observée. Le courriel de document doit aussi être un courriel
  MSSanté valide (archive IHE_XDM, documents CDA, objet) : c'est de lui que le harnais tire les codes attendus.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/CONF.15.01 @automatique
  Scénario: Un document CDA : X-MSS-CODECDA donne son code
    Quand le candidat envoie le document "CR-BIO" du patient "qualifie" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et l'en-tête X-MSS-CODECDA du courriel reçu donne le code de chaque document CDA de l'archive

  @SC.MSS/CONF.15.02 @automatique
  Scénario: Plusieurs documents CDA : X-MSS-CODECDA donne le code de chacun
    Quand le candidat envoie les documents "CR-IMG, LDL-SES" du patient "qualifie_2" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et l'en-tête X-MSS-CODECDA du courriel reçu donne le code de chaque document CDA de l'archive

  @SC.MSS/CONF.15.03 @automatique
  Scénario: Courriel sans document CDA : pas d'en-tête X-MSS-CODECDA
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu ne porte pas l'en-tête "X-MSS-CODECDA"

  @SC.MSS/CONF.15.04 @automatique
  Scénario: Le courriel de document est un courriel MSSanté valide
    Quand le candidat envoie le document "LDL-SES" du patient "qualifie_3" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et l'archive IHE_XDM et les documents CDA du courriel reçu sont valides
    Et le courriel reçu respecte les règles de structure des courriels MSSanté
