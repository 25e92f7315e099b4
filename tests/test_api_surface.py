"""The API's surface is complete: walked from the URL resolver, the OpenAPI schema and the state
machines themselves, so a new asset, filter or move without its endpoint fails here.

- every asset of the SPEC (one list below, with the section it comes from) is served under
  /api/v1/ by some operation;
- every list takes ordering, limit/offset and at least one filter;
- every move of every state machine (the apps' ``MOVES`` tables, and each public function or
  method that calls ``check_transition`` itself) has a POST action that calls it;
- every operation documents its errors (403 always, 404 on a record, 400 where it takes input
  or changes something, 409 on a move), each as JSON.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers, viewsets

pytestmark = pytest.mark.django_db

# The assets of SPEC.md ("Assets", one bullet or bold name each), as app_label.Model.
SPEC_ASSETS = [
    "portfolio.Capability",  # portfolio: Capability
    "portfolio.BacklogItem",  # portfolio: Backlog item
    "forums.PortfolioReview",  # portfolio: Quarterly portfolio review
    "forums.ScorecardRow",  # ... its scorecard rows and decisions
    "contracts.MetricContract",  # contracts: Metric contract
    "contracts.Observation",  # contracts: Observation
    "contracts.Signal",  # contracts: Signal
    "releases.Release",  # releases: Release
    "releases.ImpactReview",  # releases: Impact review
    "experiments.Experiment",  # experiments
    "decisions.Decision",  # decisions
    "assumptions.Assumption",  # assumptions
    "actions.Action",  # actions
    "incidents.Incident",  # incidents
    "forums.Forum",  # forums: Forum
    "forums.Session",  # forums: Session
    "forums.ReviewPack",  # forums: Review pack
    "forums.ValueMemo",  # forums: Monthly value review
]
PROJECT_APPS = [name for name in settings.INSTALLED_APPS if (Path(settings.BASE_DIR) / name).is_dir()]
PAGINATION = {"ordering", "limit", "offset"}
# Lists whose order is a domain rule, so a caller may not re-sort them (filters and pages still).
RANKED_LISTS = {"/api/v1/backlog-items/": "the rank of playbook 16.3 is what the list is for"}
MOVES_TABLE = "MOVES"
NOT_FILTERS = PAGINATION | {"search", "format"}


@pytest.fixture(scope="module")
def generated():
    generator = SchemaGenerator(patterns=None)
    schema = generator.get_schema(request=None, public=True)
    return generator, schema


def api_operations(schema):
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def api_view_classes():
    """Every view class routed under /api/v1/."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = getattr(pattern.callback, "cls", None)
                if view is not None:
                    yield view

    return set(walk(get_resolver().url_patterns, ""))


def post_actions(view_class):
    """(name, source) of each POST extra action of a viewset."""
    if not issubclass(view_class, viewsets.ViewSetMixin):
        return []
    return [
        (action.__name__, inspect.getsource(action))
        for action in view_class.get_extra_actions()
        if "post" in action.mapping
    ]


def viewset_models(view_class) -> set:
    queryset = getattr(view_class, "queryset", None)
    return {queryset.model} if queryset is not None else set()


def test_every_asset_of_the_spec_is_served_under_api_v1(generated):
    generator, _schema = generated
    served = set()
    for component in generator.registry._components.values():
        identity = component.object
        serializer = identity[0] if isinstance(identity, tuple) else identity
        if isinstance(serializer, serializers.ListSerializer):
            serializer = serializer.child
        meta = getattr(serializer, "Meta", None)
        if meta is not None and getattr(meta, "model", None) is not None:
            served.add(meta.model._meta.label)
    for view in api_view_classes():
        served |= {model._meta.label for model in viewset_models(view)}
    missing = [label for label in SPEC_ASSETS if label not in served]
    assert not missing, f"assets with no /api/v1/ endpoint: {missing}"
    for label in SPEC_ASSETS:
        apps.get_model(label)  # the list names real models


def test_every_list_sorts_pages_and_filters(generated):
    _generator, schema = generated
    lists = [
        (path, operation)
        for path, method, operation in api_operations(schema)
        if method == "get" and operation["operationId"].endswith("_list")
    ]
    assert len(lists) >= 15
    gaps = {}
    for path, operation in lists:
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        missing = sorted(PAGINATION - names - ({"ordering"} if path in RANKED_LISTS else set()))
        if not names - NOT_FILTERS:
            missing.append("a filter")
        if missing:
            gaps[path] = missing
    assert not gaps, gaps


def _transition_entry_points():
    """(model or None, name) of every move: the apps' MOVES tables, then each public function
    or method that checks a transition itself (found in the source, so a new one counts)."""
    entry_points = set()
    for app in PROJECT_APPS:
        try:
            choices = importlib.import_module(f"{app}.choices")
        except ModuleNotFoundError:
            continue
        if isinstance(getattr(choices, "MOVES", None), dict):
            entry_points.update((app, MOVES_TABLE, move) for move in choices.MOVES)
    for app in PROJECT_APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts or "api" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                owners = [node] if isinstance(node, ast.Module) else []
                owners += [node] if isinstance(node, ast.ClassDef) else []
                for owner in owners:
                    for function in owner.body:
                        if not isinstance(function, ast.FunctionDef) or function.name.startswith(
                            ("_", "check_")
                        ):
                            continue
                        calls = {
                            getattr(call.func, "id", getattr(call.func, "attr", None))
                            for call in ast.walk(function)
                            if isinstance(call, ast.Call)
                        }
                        if "check_transition" in calls:
                            model = owner.name if isinstance(owner, ast.ClassDef) else None
                            entry_points.add((app, model, function.name))
    return entry_points


def _model_of_moves(app):
    """The model whose state machine an app's MOVES table drives: the one that answers which
    of those moves are open (``allowed_moves`` / ``available_moves``)."""
    for model in apps.get_app_config(app).get_models():
        if hasattr(model, "check_move") or hasattr(model, "available_moves"):
            return model
    return None


def test_every_state_transition_has_its_own_post_action():
    views = api_view_classes()
    entry_points = _transition_entry_points()
    assert {
        ("actions", MOVES_TABLE, "verify"),
        ("portfolio", "BacklogItem", "move"),
        ("contracts", None, "contract_retire"),
    } <= entry_points
    missing = []
    for app, model_name, name in sorted(entry_points, key=str):
        if model_name == MOVES_TABLE:
            model = _model_of_moves(app)
            assert model is not None, f"{app}.choices.MOVES drives no model"
        else:
            model = apps.get_model(app, model_name) if model_name else None
        candidates = [view for view in views if model is None or model in viewset_models(view)]
        found = any(
            action_name == name or f"{name}(" in source or f'"{name}"' in source
            for view in candidates
            for action_name, source in post_actions(view)
        )
        if not found:
            missing.append(f"{app}.{model_name or ''}.{name}")
    assert not missing, f"moves with no POST action: {missing}"


def test_every_operation_documents_its_errors_as_json(generated):
    _generator, schema = generated
    gaps = {}
    for path, method, operation in api_operations(schema):
        parameters = operation.get("parameters", [])
        has_path = any(p["in"] == "path" for p in parameters)
        takes_input = "requestBody" in operation or any(p["in"] == "query" for p in parameters)
        expected = {"403"}
        if has_path:
            expected.add("404")
        if takes_input or method != "get":
            expected.add("400")
        if has_path and (
            method in ("put", "patch") or (method == "post" and "201" not in operation["responses"])
        ):
            expected.add("409")
        responses = operation["responses"]
        missing = sorted(code for code in expected if code not in responses)
        not_json = sorted(
            code
            for code in expected & set(responses)
            if "application/json" not in responses[code].get("content", {})
        )
        if missing or not_json:
            gaps[f"{method.upper()} {path}"] = {"missing": missing, "not JSON": not_json}
    assert not gaps, gaps


def test_a_refused_move_answers_409_json_naming_the_field(api_for, pm, capability):
    from actions.tests.factories import ActionFactory

    action = ActionFactory(capability=capability, status="closed")
    response = api_for(pm).post(f"/api/v1/actions/{action.readable_id}/start/")
    assert response.status_code == 409
    body = response.json()
    assert list(body) == ["status"] and body["status"][0]
