"""The boards' capability chooser and the navbar switcher (``option_list``, ``capability_options``):
every capability the reader may see, the one shown selected, names escaped."""

import pytest
from django.urls import reverse

from portfolio.tests.factories import CapabilityFactory

pytestmark = pytest.mark.django_db


def _select(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</select>", start)]


@pytest.mark.parametrize("board", ["boards:weekly", "boards:runtime", "boards:monthly"])
def test_the_chooser_lists_every_capability_and_selects_the_one_shown(
    client_for, executive, capability, board
):
    odd = CapabilityFactory(name='Fees & "Charges" <pilot>', slug="fees-pilot")
    client = client_for(executive)
    cut = _select(client.get(reverse(board), {"capability": odd.slug}).content.decode(), "board-capability")
    assert '<option value="fees-pilot" selected>Fees &amp; &quot;Charges&quot; &lt;pilot&gt;</option>' in cut
    assert f'<option value="{capability.slug}">{capability.name}</option>' in cut
    everything = _select(
        client.get(reverse(board), {"capability": "all"}).content.decode(), "board-capability"
    )
    assert " selected>" not in everything.split("</option>", 1)[1]  # only "all" may be selected
    assert '<option value="fees-pilot">' in everything


def test_the_switcher_escapes_names(client_for, executive, capability):
    CapabilityFactory(name="Fees <b>pilot</b>", slug="fees-pilot")
    switcher = _select(
        client_for(executive).get(reverse("boards:index")).content.decode(), "capability-switcher"
    )
    assert '<option value="fees-pilot">Fees &lt;b&gt;pilot&lt;/b&gt;</option>' in switcher
    assert f'<option value="{capability.slug}">' in switcher
