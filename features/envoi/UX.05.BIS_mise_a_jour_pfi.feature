# language: fr
@SC.MSS/UX.05.BIS
Fonctionnalité: Envoi par la PFI de la mise à jour d'un document CDA produit par le système
  Le texte de cette exigence n'est pas public : seul son regroupement est connu (« envoi de la mise à jour ou
  de la suppression d'un document CDA produit par le système, via la PFI », atelier éditeurs RIS de l'ANS, avril
  2025). Le harnais joue le logiciel producteur : il demande à la PFI l'envoi d'un document (MDM^T02), puis son
  remplacement (MDM^T10, TXA-13 = numéro du document remplacé). Règles publiques vérifiées sur ce que la PFI
  envoie : le document CDA de remplacement garde le setId, porte un versionNumber supérieur et désigne la version
  remplacée par relatedDocument (typeCode RPLC, parentDocument/id) (CI-SIS) ; l'archive IHE_XDM porte, dans
  METADATA.XML, une association urn:ihe:iti:2007:AssociationType:RPLC de la nouvelle entrée vers l'entrée du
  document remplacé telle que l'archive précédente l'a décrite (règle IHE ITI-32, dont l'usage MSSanté n'est
  pas documenté publiquement).
  Suppression : aucune source publique ne dit comment une suppression se code sur MSSanté (ni dans le CDA, ni
  dans l'IHE_XDM, ni dans le courriel) ; seul le code d'erreur 900 du guide ANS de réception la mentionne. Le
  harnais ne juge donc pas la suppression : il transmet la demande du producteur (MDM^T11) et consigne dans le
  dossier ce que le candidat en a fait (refus, ou courriel envoyé, joint au dossier), sans verdict.

  @SC.MSS/UX.05.BIS.01 @automatique
  Scénario: Remplacement d'un document envoyé : même setId, version supérieure, RPLC dans le CDA et dans l'IHE_XDM
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "applicative"
    Et la PFI a envoyé pour le producteur le document "CR-BIO" numéro "CR-2025-0001" du patient "qualifie" à "correspondant"
    Quand le producteur transmet à la PFI un message HL7v2 de remplacement du document "CR-2025-0001"
    Alors la PFI envoie la nouvelle version dans 1 courriel
    Et le document CDA de remplacement garde le setId, augmente versionNumber et désigne la version précédente par RPLC
    Et l'archive IHE_XDM du remplacement porte l'association RPLC vers l'entrée de la version précédente
    Et l'archive IHE_XDM et les documents CDA du courriel reçu sont valides
    Et la demande de suppression du document "CR-2025-0001" est transmise à la PFI et consignée sans verdict
