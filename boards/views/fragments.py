"""A part of a board that htmx loads in place (a fold, a redrawn trend card), which a browser
without JavaScript opens as a page of its own through the same link."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_fragment(request, fragment: str, page: str, context: dict):
    """``fragment`` for an htmx request, else ``page``; the answer varies on ``HX-Request`` so a
    cache never serves one for the other."""
    response = render(request, fragment if request.htmx else page, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
