from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from productops import token_views, views

api_patterns = [
    path("", include("portfolio.api.urls")),
    path("", include("actions.api.urls")),
    path("", include("decisions.api.urls")),
    path("", include("assumptions.api.urls")),
    path("", include("contracts.api.urls")),
    path("", include("releases.api.urls")),
    path("", include("experiments.api.urls")),
    path("", include("incidents.api.urls")),
    path("", include("forums.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("hygiene.api.urls")),
    path("", include("readiness.api.urls")),
]

# A lost database answers 503 with a clear message (JSON for the API); any other error is a 500.
handler500 = "productops.views.server_error"
# An /api/ address that matches no route answers JSON, as the API's own 404s do.
handler404 = "productops.views.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/api-tokens/", token_views.api_tokens, name="api-tokens"),
    path("account/api-tokens/<int:pk>/revoke/", token_views.api_token_revoke, name="api-token-revoke"),
    path("capabilities/", include("portfolio.urls")),
    path("actions/", include("actions.urls")),
    path("decisions/", include("decisions.urls")),
    path("assumptions/", include("assumptions.urls")),
    path("contracts/", include("contracts.urls")),
    path("releases/", include("releases.urls")),
    path("experiments/", include("experiments.urls")),
    path("incidents/", include("incidents.urls")),
    path("forums/", include("forums.urls")),
    path("boards/", include("boards.urls")),
    path("hygiene/", include("hygiene.urls")),
    path("readiness/", include("readiness.urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
