"""The contract pages and API mounted where the project mounts them (/contracts/ and
/api/v1/contracts/, /api/v1/signals/). Until productops/urls.py includes them, the contract
tests use this module as their URLconf: the project's URLs plus the contracts app's."""

from django.urls import NoReverseMatch, include, path, resolve, reverse

from productops import urls as project


def _mounted(name: str, **kwargs) -> bool:
    try:
        reverse(name, urlconf="productops.urls", kwargs=kwargs or None)
    except NoReverseMatch:
        return False
    return True


def _patterns():
    patterns = list(project.urlpatterns)
    if not _mounted("api:contract-list"):
        api = path(
            "api/v1/", include(([*project.api_patterns, path("", include("contracts.api.urls"))], "api"))
        )
        patterns = [api if str(p.pattern) == "api/v1/" else p for p in patterns]
    if not _mounted("contracts:contract-list"):
        patterns.append(path("contracts/", include("contracts.urls")))
    return patterns


urlpatterns = _patterns()

URLCONF = __name__


def test_the_pages_and_the_api_have_their_addresses(settings):
    settings.ROOT_URLCONF = URLCONF
    assert reverse("contracts:contract-list", urlconf=URLCONF) == "/contracts/"
    detail = reverse(
        "contracts:contract-detail", urlconf=URLCONF, args=["kyc_ai.document_false_pass_sample_rate"]
    )
    assert detail == "/contracts/kyc_ai.document_false_pass_sample_rate/"
    assert resolve("/contracts/signals/", urlconf=URLCONF).url_name == "signal-list"
    assert resolve("/contracts/new/", urlconf=URLCONF).url_name == "contract-create"
    assert reverse("api:contract-detail", urlconf=URLCONF, args=["a_b.c_d"]) == "/api/v1/contracts/a_b.c_d/"
    assert (
        reverse("api:contract-activate", urlconf=URLCONF, args=["a_b.c_d"])
        == "/api/v1/contracts/a_b.c_d/activate/"
    )
    assert reverse("api:signal-lift-hold", urlconf=URLCONF, args=[3]) == "/api/v1/signals/3/lift-hold/"
