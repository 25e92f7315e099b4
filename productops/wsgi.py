import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "productops.settings")
application = get_wsgi_application()

from productops.serving import tune_garbage_collector  # noqa: E402 - needs the settings loaded

tune_garbage_collector()
