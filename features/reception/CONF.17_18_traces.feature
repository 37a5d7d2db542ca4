# language: fr
Fonctionnalité: Traces fonctionnelles des traitements sur la BAL
  Le logiciel trace chaque traitement effectué sur la BAL (au moins envois et suppressions) : auteur authentifié,
  horodatage local, type d'action, requête envoyée au serveur et sa réponse, échecs compris, jamais le contenu
  des messages (FAQ ANS industriels Ségur vague 2). Le harnais déroule une séquence scriptée : il dépose un
  courriel ordinaire, un document d'un patient connu et un document d'un patient inconnu (échec d'intégration
  902) ; le candidat relève sa BAL ; le harnais dépose le remplacement du document ; le candidat relève, envoie un
  courriel à un correspondant, tente un envoi que l'opérateur refuse (550 5.1.1) et supprime le courriel
  ordinaire. Puis il lit l'export de traces du candidat (format JSON ou CSV documenté, correspondance des champs
  configurable : table [traces] de --config) et y cherche chaque traitement, ses champs, et le contenu échangé
  (marqueurs des corps et des objets, octets des pièces jointes). La durée de conservation déclarée est relevée
  (six mois recommandés).

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"
    Et le candidat connaît le patient "qualifie"
    Et le candidat déroule la séquence scriptée de traitements sur sa BAL

  @SC.MSS/CONF.17 @SC.MSS/CONF.17.01 @automatique
  Scénario: Chaque traitement de la séquence a sa trace, échecs compris
    Quand le candidat exporte ses traces
    Alors chaque traitement de la séquence a une trace dans l'export du candidat
    Et la durée de conservation des traces déclarée par le candidat est relevée

  @SC.MSS/CONF.18 @SC.MSS/CONF.18.01 @automatique
  Scénario: Chaque trace porte auteur, horodatage, action, requête et réponse, sans contenu de message
    Quand le candidat exporte ses traces
    Alors chaque trace porte l'auteur authentifié, l'horodatage local, le type d'action, la requête et la réponse
    Et l'échec d'envoi de la séquence est tracé avec la réponse d'erreur du serveur
    Et aucune trace ne contient le contenu d'un message ou d'une pièce jointe échangés

  @SC.MSS/UX.37 @SC.MSS/UX.37.01 @automatique
  Scénario: Historique des actions sur les documents reçus jusqu'à leur traitement
    Quand le candidat exporte ses traces
    Alors les traces retracent la réception, l'intégration, l'échec d'intégration et le remplacement des documents reçus
