"""Demo data for the decisions app (filled in by its issue)."""


def seed(context) -> None:
    pass
