"""System checks of ProductOps' own settings (run by every manage.py command and at start-up)."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


@register(Tags.security)
def media_outside_static(app_configs=None, **kwargs):
    """Uploaded evidence must never be reachable as a static file: whitenoise serves everything
    under STATIC_ROOT (and, with DEBUG on, the STATICFILES_DIRS) to anyone, signed in or not."""
    media = Path(settings.MEDIA_ROOT).resolve()
    served = [Path(settings.STATIC_ROOT)]
    served += [Path(entry[1] if isinstance(entry, tuple) else entry) for entry in settings.STATICFILES_DIRS]
    for folder in served:
        folder = folder.resolve()
        if _inside(media, folder) or _inside(folder, media):
            return [
                Error(
                    f"MEDIA_ROOT ({media}) and the static files folder {folder} overlap: uploaded "
                    "evidence would be served to anyone.",
                    hint="Set MEDIA_ROOT to a folder outside STATIC_ROOT and the static sources.",
                    id="productops.E001",
                )
            ]
    return []
