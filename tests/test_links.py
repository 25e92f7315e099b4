"""Record links reversed once and kept (productops.links): the very URL Django's reverse gives,
no kept failure, and nothing kept across a change of URL configuration or script prefix."""

import pytest
from django.urls import NoReverseMatch, set_script_prefix
from django.urls import reverse as django_reverse

from productops import links


def test_the_same_url_as_django_for_every_kind_of_argument():
    for viewname, kwargs in [
        ("decisions:decision-detail", {"readable_id": "DEC-0007"}),
        ("forums:session-detail", {"pk": 42}),
        ("contracts:contract-detail", {"metric_id": "cc_agent_assist.repeat_contact_7d"}),
        ("portfolio:capability-detail", {"slug": "cc-agent-assist"}),
    ]:
        assert links.reverse(viewname, kwargs=kwargs) == django_reverse(viewname, kwargs=kwargs)
        assert links.reverse(viewname, kwargs=kwargs) == django_reverse(viewname, kwargs=kwargs)  # kept


def test_a_failing_reverse_fails_every_time():
    for _ in range(2):
        with pytest.raises(NoReverseMatch):
            links.reverse("forums:session-detail", kwargs={"pk": "not-a-number"})


def test_the_script_prefix_is_part_of_the_key():
    plain = links.reverse("decisions:decision-detail", kwargs={"readable_id": "DEC-0001"})
    set_script_prefix("/productops/")
    try:
        assert links.reverse("decisions:decision-detail", kwargs={"readable_id": "DEC-0001"}) == (
            "/productops" + plain
        )
    finally:
        set_script_prefix("/")


def test_kept_links_are_dropped_when_the_urlconf_changes(settings):
    links.reverse("decisions:decision-detail", kwargs={"readable_id": "DEC-0001"})
    assert links._kept.cache_info().currsize
    settings.ROOT_URLCONF = "productops.urls"
    assert links._kept.cache_info().currsize == 0
