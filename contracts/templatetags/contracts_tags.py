from django import template

register = template.Library()


@register.filter
def metric_value(value, contract) -> str:
    """``{{ evaluation.value|metric_value:contract }}``: the value in the contract's unit."""
    return contract.format_value(value)


@register.filter
def unit_value(value, unit) -> str:
    """``{{ value|unit_value:"share" }}``: a value formatted for a unit, where only the unit is
    at hand (frozen pack snapshots carry the unit, not the contract)."""
    from contracts.models import MetricContract

    return MetricContract(unit=unit or "").format_value(value)
