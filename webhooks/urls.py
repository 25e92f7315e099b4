from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhook_settings, name="settings"),
    path("endpoints/new/", views.endpoint_create, name="endpoint-create"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="endpoint-detail"),
    path("endpoints/<int:pk>/edit/", views.endpoint_edit, name="endpoint-edit"),
    path("endpoints/<int:pk>/toggle/", views.endpoint_toggle, name="endpoint-toggle"),
    path("endpoints/<int:pk>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint-rotate-secret"),
    path("endpoints/<int:pk>/ping/", views.endpoint_ping, name="endpoint-ping"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery-detail"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
]
