from django import template

register = template.Library()


@register.filter
def metric_value(value, contract) -> str:
    """``{{ evaluation.value|metric_value:contract }}``: the value in the contract's unit."""
    return contract.format_value(value)
