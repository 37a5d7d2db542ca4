# language: fr
@SC.MSS/UX.01
Fonctionnalité: Identifier un courriel MSSanté porteur de documents
  Le logiciel reconnaît un courriel reçu porteur de documents : pièce jointe IHE_XDM.zip ou objet commençant
  par XDM/1.0/DDM (guide ANS « Transmission au LPS de documents CDA provenant d'un courriel MSSanté »). Un
  courriel ordinaire n'est pas traité comme un courriel de documents. Le harnais, en correspondant, dépose les
  courriels dans la BAL du candidat puis lui demande ce qu'il en a fait (liste de réception de l'adaptateur, ou
  capture d'écran attestée si l'adaptateur ne la rend pas).

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/UX.01.01 @automatique
  Scénario: Courriel avec une pièce jointe IHE_XDM.zip, objet ordinaire : reconnu comme courriel de documents
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie" sous un objet ordinaire
    Quand le candidat relève sa boîte aux lettres
    Alors le candidat a reconnu le courriel déposé comme courriel de documents MSSanté

  @SC.MSS/UX.01.02 @automatique
  Scénario: Courriel dont l'objet commence par XDM/1.0/DDM : reconnu
    Soit un correspondant dépose dans la BAL du candidat un courriel d'objet "XDM/1.0/DDM+Compte rendu" sans archive
    Quand le candidat relève sa boîte aux lettres
    Alors le candidat a reconnu le courriel déposé comme courriel de documents MSSanté

  @SC.MSS/UX.01.03 @automatique
  Scénario: Courriel ordinaire : pas traité comme courriel de documents
    Soit un correspondant dépose dans la BAL du candidat un courriel ordinaire
    Quand le candidat relève sa boîte aux lettres
    Alors le candidat n'a pas traité le courriel déposé comme courriel de documents MSSanté
