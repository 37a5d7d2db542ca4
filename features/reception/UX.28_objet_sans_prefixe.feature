# language: fr
@SC.MSS/UX.28
Fonctionnalité: Masquer le préfixe XDM/1.0/DDM+ de l'objet à l'affichage
  À l'affichage, l'objet d'un courriel reçu ne montre pas le préfixe technique XDM/1.0/DDM+ (résumé du REM LGC,
  ECO.3.1.3). Preuve attestée : le harnais dépose un courriel de documents dont l'objet commence par
  XDM/1.0/DDM+ ; la personne qui pilote le logiciel fournit une capture d'écran de la liste des courriels et du
  courriel ouvert, où l'objet s'affiche sans ce préfixe. Le courriel déposé est joint au dossier.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/UX.28.01 @atteste
  Scénario: L'objet d'un courriel de documents s'affiche sans le préfixe XDM/1.0/DDM+
    Soit un correspondant dépose dans la BAL du candidat le document "CR-BIO" du patient "qualifie"
    Quand le candidat relève sa boîte aux lettres
    Alors une capture d'écran de l'objet affiché sans le préfixe XDM/1.0/DDM+ est fournie
