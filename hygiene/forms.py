import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygiene.choices import WAIVER_MAX_DAYS

DEFAULT_WAIVER_DAYS = 30


class WaiverForm(forms.Form):
    """Waive a finding: why it may stand for now, and the last day the waiver holds."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the decision log as a risk acceptance."),
    )
    expires_on = forms.DateField(
        label=_("Waived until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day the waiver holds (at most %(days)s days ahead).")
        % {"days": WAIVER_MAX_DAYS},
    )

    def __init__(self, *args, prefix=None, **kwargs):
        kwargs.setdefault(
            "initial", {"expires_on": timezone.localdate() + datetime.timedelta(days=DEFAULT_WAIVER_DAYS)}
        )
        super().__init__(*args, prefix=prefix, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
