# language: fr
@SC.MSS/CONF.16
Fonctionnalité: En-tête X-MSS-NIL sur chaque courriel émis
  Chaque courriel émis par le logiciel porte l'en-tête X-MSS-NIL, dont la valeur est la référence du produit
  déclarée sur Convergence (donnée au harnais par configuration). L'ANS s'en sert à des fins statistiques.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/CONF.16.01 @automatique
  Scénario: Un courriel simple porte X-MSS-NIL avec la référence du produit
    Quand le candidat envoie un courriel simple à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et chaque courriel reçu porte l'en-tête X-MSS-NIL avec la référence Convergence configurée

  @SC.MSS/CONF.16.02 @automatique
  Scénario: Un courriel portant un document CDA dans une archive IHE_XDM porte X-MSS-NIL
    Quand le candidat envoie le document "CR-BIO" du patient "qualifie" à "correspondant"
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu porte une pièce jointe IHE_XDM.zip
    Et chaque courriel reçu porte l'en-tête X-MSS-NIL avec la référence Convergence configurée
