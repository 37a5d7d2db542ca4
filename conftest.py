"""Root conftest: loads the campaign plugin and the step modules (scenarios live in scenarios/)."""

pytest_plugins = [
    "fixtures.campaign",
    "steps.common",
    "steps.emission",
    "steps.annuaire",
    "steps.pfi",
    "steps.connexion",
    "steps.reception",
    "steps.traces",
]
