"""``productops.formats.one_decimal`` writes every number as the template filter
``floatformat:1`` does (the boards' figures must read the same whichever wrote them)."""

import random

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation

from productops.formats import one_decimal

EDGES = [0.0, -0.0, 0.05, -0.05, 0.25, -0.25, 0.15, 1.45, -1.45, 2.675, 1e-9, -1e-9, 12345.65, -99999.95]
EDGES += [0.04999, 1e20, 3, -3, 7.0, float("nan"), float("inf"), float("-inf"), None, "x", "2.35"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_it_writes_what_floatformat_writes(language):
    generator = random.Random(8)
    values = EDGES + [generator.uniform(-500, 500) for _ in range(3000)]
    values += [generator.randint(-2000, 2000) / 20 for _ in range(2000)]  # exact halves of a tenth
    with translation.override(language):
        assert [one_decimal(value) for value in values] == [str(floatformat(value, 1)) for value in values]


def test_a_zero_has_no_minus_sign_and_halves_round_away_from_zero():
    assert one_decimal(-0.04) == "0.0"
    assert one_decimal(0.25) == "0.3"
    assert one_decimal(-0.25) == "-0.3"
