"""Forms of the project package's own pages (the person's API tokens)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from productops.models import ApiTokenScope
from productops.tokens import EXPIRY_CHOICES_DAYS


def _expiry_choices():
    never = [("", _("Never"))]
    return never + [
        (str(days), ngettext_lazy("In %(days)d day", "In %(days)d days", days) % {"days": days})
        for days in EXPIRY_CHOICES_DAYS
    ]


class ApiTokenForm(forms.Form):
    """A new token: a name saying what uses it, read or write, and when it stops working."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses it, e.g. “CRM export job”."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.READ,
        help_text=_("A read token may only read. A write token may change what your roles allow."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires"),
        choices=_expiry_choices,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
