"""A ``celery worker`` that stops dead at a chosen point of a task, for the killed-worker tests.

    python -m tests.worker_faults <module:function> <marker file> -- <celery worker arguments>

Before the worker starts, ``module.function`` is wrapped so that its first call writes the
marker file (the test's cue that the task is in the middle of its work) and then sleeps until
the process is killed. Nothing of this is in the product: the wrap is applied to this process
only, and the prefork pool's children inherit it when they fork.
"""

import functools
import importlib
import os
import sys
import time


def pause_forever_at(target: str, marker: str) -> None:
    """Wrap ``module:function`` so that calling it announces itself in ``marker`` and hangs."""
    module_name, function_name = target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, function_name)

    @functools.wraps(original)
    def paused(*args, **kwargs):
        with open(marker, "w") as file:
            file.write(f"{os.getpid()}\n")
        while True:  # until SIGKILL: the work before this point is done, the rest is not
            time.sleep(60)

    setattr(module, function_name, paused)


def main(argv: list[str]) -> None:
    target, marker, separator, *celery_args = argv
    if separator != "--":
        raise SystemExit(__doc__)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "productops.settings")
    import django

    django.setup()
    pause_forever_at(target, marker)
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *celery_args]
    celery_main()


if __name__ == "__main__":
    main(sys.argv[1:])
