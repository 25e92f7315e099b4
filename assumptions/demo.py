"""Demo data for the assumptions app (filled in by its issue)."""


def seed(context) -> None:
    pass
