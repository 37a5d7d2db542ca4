"""The requirement catalogue: requirements as data, their coverage by feature files."""

from segur_mss.catalogue.loader import CatalogueError, load_catalogue
from segur_mss.catalogue.model import Catalogue, Requirement

__all__ = ["Catalogue", "CatalogueError", "Requirement", "load_catalogue"]
