"""Tests of the candidate adapters (command, HTTP, manual) and of the self-test."""
