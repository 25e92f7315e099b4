"""productops.html escapes as Django's escape does, so hot loops can use it instead."""

import pytest
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from productops.html import esc, safe_join


@pytest.mark.parametrize(
    "value",
    ['<script>alert("x")</script>', "Tom & Jerry's", "客户投诉 <b>", 0.125, None, 42, ""],
)
def test_esc_matches_djangos_conditional_escape(value):
    assert esc(value) == str(conditional_escape(value))


def test_esc_keeps_html_already_marked_safe():
    assert esc(mark_safe("<em>kept</em>")) == "<em>kept</em>"


def test_esc_translates_lazy_text():
    assert esc(gettext_lazy("Evidence")) == "Evidence"


def test_safe_join_marks_the_fragment_safe_once():
    fragment = safe_join(["<td>", esc("a<b"), "</td>"])
    assert isinstance(fragment, SafeString)
    assert fragment == "<td>a&lt;b</td>"
