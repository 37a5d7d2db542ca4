"""Binds the feature files of the `envoi` family (sending: directory, PFI, patient, acknowledgements) to pytest."""

from pytest_bdd import scenarios

scenarios("envoi")
