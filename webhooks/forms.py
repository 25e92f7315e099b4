from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.choices import SUBSCRIBABLE_EVENTS


class EndpointForm(forms.Form):
    """An endpoint as the settings page edits it. The URL and events are checked by the service
    (``webhooks.validators``), so the page and the API give the same errors."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. “#ops-alerts in chat”."))
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("The receiver's address. https:// is required, except for localhost."),
        widget=forms.URLInput(attrs={"class": "form-control font-monospace", "inputmode": "url"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=SUBSCRIBABLE_EVENTS, widget=forms.CheckboxSelectMultiple, required=False
    )
    active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("A disabled endpoint receives nothing.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.setdefault("class", "form-control")

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("name", "url", "events", "active")}
