"""Demo data for the actions app (filled in by its issue)."""


def seed(context) -> None:
    pass
