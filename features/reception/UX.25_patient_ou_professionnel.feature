# language: fr
@SC.MSS/UX.25
Fonctionnalité: Distinguer à l'affichage un courriel de patient d'un courriel de professionnel
  L'affichage distingue un courriel venant d'un patient (messagerie de Mon espace santé) d'un courriel venant
  d'un professionnel, sans se fonder sur le seul nom de domaine de l'adresse (résumé du REM LGC, ECO.3.1.1).
  Preuve attestée : le harnais dépose dans la BAL du candidat un courriel du patient « qualifie » (depuis
  <INS>@patient.mssante.fr) et un courriel d'un professionnel ; la personne qui pilote le logiciel fournit une
  capture d'écran de la liste des courriels reçus où les deux sont distingués. Les courriels déposés sont joints
  au dossier.

  Contexte:
    Soit l'opérateur de référence est démarré
    Et le candidat est connecté à la BAL "emetteur"

  @SC.MSS/UX.25.01 @atteste
  Scénario: Un courriel de patient et un courriel de professionnel sont distingués à l'affichage
    Soit le patient "qualifie" écrit depuis Mon espace santé dans la BAL du candidat
    Et un correspondant dépose dans la BAL du candidat un courriel ordinaire
    Quand le candidat relève sa boîte aux lettres
    Alors une capture d'écran distinguant le courriel du patient de celui du professionnel est fournie
