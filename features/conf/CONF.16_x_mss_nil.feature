# language: fr
@SC.MSS/CONF.16
Fonctionnalité: En-tête X-MSS-NIL sur chaque courriel émis
  Chaque courriel émis par le logiciel porte l'en-tête X-MSS-NIL, dont la valeur est la référence du produit
  déclarée sur Convergence (donnée au harnais par configuration). L'ANS s'en sert à des fins statistiques.
  Tout courriel compte : celui que l'utilisateur rédige, celui qui porte des documents, la réponse à un courriel
  reçu (le harnais vérifie aussi qu'elle se rattache au fil : In-Reply-To et References) et l'accusé MDN que le
  logiciel renvoie quand un courriel reçu en demande un.

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

  @SC.MSS/CONF.16.03 @automatique
  Scénario: Une réponse du candidat à un courriel reçu porte X-MSS-NIL et se rattache au courriel d'origine
    Soit le correspondant "correspondant" a écrit au candidat un courriel simple
    Quand le candidat relève sa boîte aux lettres
    Et le candidat répond au courriel du correspondant
    Alors l'opérateur reçoit 1 courriel du candidat
    Et chaque courriel reçu porte l'en-tête X-MSS-NIL avec la référence Convergence configurée
    Et le courriel reçu répond au courriel du correspondant (In-Reply-To et References)

  @SC.MSS/CONF.16.04 @automatique
  Scénario: Un accusé MDN émis par le candidat porte X-MSS-NIL
    Soit le correspondant "correspondant" a envoyé au candidat le document "CR-BIO" du patient "qualifie" avec demande d'accusé
    Quand le candidat relève sa boîte aux lettres
    Alors l'opérateur reçoit 1 courriel du candidat
    Et le courriel reçu est l'accusé du candidat au courriel du correspondant
    Et chaque courriel reçu porte l'en-tête X-MSS-NIL avec la référence Convergence configurée
