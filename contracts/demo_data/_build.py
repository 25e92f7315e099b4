"""The shape of one demo contract: the playbook's template (10.1) as MetricContract fields, plus
its guardrail metric ids and the parameters the observation generator reads.

Each capability module lists its contracts with ``define = partial(contract, COMMON)``, where
``COMMON`` carries what the capability's contracts share (population, source and trace,
segmentation reviews, guardrail texts), the values its cohort dimensions take and its generator
defaults.

Generator parameters (``gen``): ``base`` level, ``noise`` (relative day-to-day spread),
``trend`` (relative drift over the 26 weeks), ``n`` (cases per cohort per weekday),
``weekend`` (weekend volume factor), ``cross`` (the dimensions whose combinations make the
cohorts, at most 8; by default the first two; the other dimensions are spread over them),
``spread`` (relative level spread between cohorts), ``levels`` / ``weights``
({dimension: {value: factor}} on a cohort's level / volume), ``money`` (the numerator is an
amount, not a count), ``thin`` ({dimension: value}: one extra cohort too small to evaluate)
and ``shifts`` (planted stories: from ``start`` days ago or the prompt ``"release"``, over
``ramp`` days, ``to`` a level or ``by`` a relative change, for the cohorts that ``match``).
"""

# Fields a capability's contracts share unless a contract says otherwise.
SHARED_FIELDS = (
    "population_workflow",
    "population_user_roles",
    "population_case_types",
    "population_channel",
    "population_risk_tier",
    "source_systems",
    "version_fields",
    "join_keys",
    "data_latency",
    "sampling_approach",
    "vulnerable_customer_review",
    "manager_team_cut",
    "guardrail_customer_harm",
    "guardrail_cost",
    "guardrail_quality",
    "guardrail_risk",
)


def contract(
    common: dict,
    metric_id: str,
    name: str,
    category: str,
    *,
    question: str,
    decision: str,
    numerator: str,
    denominator: str = "",
    include: str,
    exclude: str,
    window: str = "Calendar week, Monday to Sunday",
    unit: str = "share",
    lower: bool = True,
    ratio: bool = True,
    levels: tuple,
    stop_rule: str = "",
    on_warning: tuple,
    warning_done: str,
    on_breach: tuple,
    breach_done: str = "Back under warning for 2 weeks",
    cuts: list,
    extra_dims: tuple = (),
    guardrails: tuple = (),
    evidence: str = "E3",
    min_sample: int = 50,
    consecutive: int = 1,
    status: str = "active",
    events: str,
    gen: dict,
    **fields,
) -> dict:
    """One contract as a dict of model fields, with ``guardrails`` (metric ids) and ``gen``.

    ``levels`` is (target, warning, breach) or (target, warning, breach, stop level);
    ``on_warning`` and ``on_breach`` are (owner role, due in days, action); ``warning_done`` and
    ``breach_done`` their closure criteria.
    """
    target, warning, breach, *stop = levels
    data = {name_: common[name_] for name_ in SHARED_FIELDS if name_ in common}
    data.update(
        metric_id=metric_id,
        name=name,
        category=category,
        status=status,
        business_question=question,
        decision_supported=decision,
        numerator=numerator,
        denominator=denominator,
        inclusion_rules=include,
        exclusion_rules=exclude,
        time_window=window,
        unit=unit,
        direction="lower" if lower else "higher",
        is_ratio=ratio,
        event_names=events,
        target=target,
        warning=warning,
        breach=breach,
        stop_level=stop[0] if stop else None,
        stop_rule=stop_rule,
        warning_action_owner_role=on_warning[0],
        warning_action_due_days=on_warning[1],
        warning_action=on_warning[2],
        warning_closure_criterion=warning_done,
        breach_action_owner_role=on_breach[0],
        breach_action_due_days=on_breach[1],
        breach_action=on_breach[2],
        breach_closure_criterion=breach_done,
        cohort_dimensions=[*cuts, *extra_dims],
        required_cuts=list(cuts),
        grain="week",
        min_sample_size=min_sample,
        consecutive_periods=consecutive,
        evidence_level=evidence,
    )
    data.update(fields)
    values = common["values"]
    dims = data["cohort_dimensions"]
    data["guardrails"] = list(guardrails)
    data["gen"] = {"values": {dim: values[dim] for dim in dims}, **common.get("gen", {}), **gen}
    return data
