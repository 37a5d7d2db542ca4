"""Binds the feature files of the `reception` family (receiving, integrating, tracing) to pytest."""

from pytest_bdd import scenarios

scenarios("reception")
