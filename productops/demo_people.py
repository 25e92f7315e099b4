"""Helpers the demo builders share: people with the demo password, and a fixed name list."""

import random

from django.contrib.auth.hashers import make_password

from productops.models import User

FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "George",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Oscar",
    "Pooja",
    "Quentin",
    "Rosa",
    "Sanjay",
    "Tess",
    "Umar",
    "Vera",
    "Wei",
    "Xena",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Carla",
    "Deepak",
    "Eva",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kavya",
    "Liam",
    "Mei",
    "Nikhil",
    "Olga",
    "Pablo",
    "Rania",
    "Stefan",
    "Tara",
    "Uma",
    "Viktor",
    "Yara",
]
LAST_NAMES = [
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Evans",
    "Fischer",
    "Gupta",
    "Hoffman",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Li",
    "Murphy",
    "Nakamura",
    "O'Neill",
    "Patel",
    "Quinn",
    "Rossi",
    "Santos",
    "Thompson",
    "Usman",
    "Varga",
    "Wang",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Ahmed",
    "Byrne",
    "Chowdhury",
    "Delgado",
    "Eriksen",
    "Fernandes",
    "Grant",
    "Huang",
    "Iqbal",
    "Jackson",
    "Kim",
    "Lopez",
    "Morgan",
    "Novak",
    "Osei",
    "Park",
    "Reyes",
    "Silva",
    "Tanaka",
    "Ueda",
    "Volkov",
    "Walsh",
]


class DemoContext:
    """What one demo build knows: its random source, its password, the records made so far."""

    def __init__(self, *, seed: int, password: str):
        self.random = random.Random(seed)
        # One hash for every demo login: hashing 60 passwords one by one takes 20 s.
        # A fixed salt keeps the hash stable, so re-running the seed rewrites nothing.
        self.password_hash = make_password(password, salt="productopsdemo")
        names = [(first, last) for first, last in zip(FIRST_NAMES, LAST_NAMES, strict=True)]
        self.random.shuffle(names)
        self.names = names


def person(context: DemoContext, username: str, first: str, last: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.productops.local"},
    )
    if user.password != context.password_hash:
        user.password = context.password_hash
        user.save(update_fields=["password"])
    return user


def upsert(model, lookup: dict, values: dict):
    """get-or-create by ``lookup``, then save only the fields that differ, so re-running the demo
    writes no history rows for records that did not change."""
    instance, created = model.objects.get_or_create(**lookup, defaults=values)
    if created:
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=changed + (["updated_at"] if hasattr(instance, "updated_at") else []))
    return instance
