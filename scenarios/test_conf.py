"""Binds the feature files of the `conf` family (interoperability with operators) to pytest."""

from pytest_bdd import scenarios

scenarios("conf")
