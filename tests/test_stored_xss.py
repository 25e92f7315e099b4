# ruff: noqa: F811  (the meeting fixtures are imported by name and requested as arguments)
"""Stored XSS (issue 9): text people write — decision requested, meeting notes, decisions and
their options, assumptions (the hypotheses), their evidence, actions, blocked reasons, closure
evidence — is stored through the real pages and API with script payloads in it, then read back
on the pages (parsed, and in a real Chromium: no dialog opens) and in the PDF review pack (no tag
leaks into the text, the Markdown formatting is kept)."""

import datetime
import io
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from actions.models import Action
from assumptions.models import Assumption
from decisions.models import Decision
from forums.tests.test_meeting_world import _media_root, ops, session, weekly  # noqa: F401

# Each line tries one way in; the first one is the Markdown that must survive.
PAYLOAD = "\n".join(
    [
        "**bold survives** and _italic survives_",
        "",
        "<script>alert('xss-script')</script>",
        "<img src=x onerror=\"alert('xss-img')\">",
        "[click me](javascript:alert('xss-link'))",
        "<a href=\"JaVaScRiPt:alert('xss-a')\">anchor</a>",
        "<iframe src=\"javascript:alert('xss-iframe')\"></iframe>",
        '<svg onload="alert(\'xss-svg\')"><circle r="1"></circle></svg>',
        '[titled](https://example.org "t\\" onmouseover=\\"alert(\'xss-title\')")',
        "<details open ontoggle=\"alert('xss-details')\">x</details>",
    ]
)
# An action's text is at most 300 characters: the same ways in, shorter.
SHORT_PAYLOAD = (
    "**bold survives** _italic survives_ <script>alert('xss-s')</script>"
    '<img src="x" onerror="alert(\'xss-i\')"> [go](javascript:alert(1)) '
    '<iframe src="javascript:alert(1)"></iframe>'
)
assert len(SHORT_PAYLOAD) <= 300

# Handlers the templates themselves carry (no payload in them).
OWN_HANDLERS = {"this.form.submit()"}

# Tags no ProductOps page has of its own: one in a page is a payload that got through.
FOREIGN_TAGS = {"iframe", "object", "embed", "frame", "frameset", "base", "meta-refresh"}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _script_bodies(html: str) -> list[str]:
    bodies, rest = [], html
    while "<script" in rest:
        rest = rest.split("<script", 1)[1]
        body, _sep, rest = rest.partition("</script>")
        bodies.append(body)
    return bodies


def dangerous(html: str) -> list[str]:
    """Everything in the page that would run script: the tags, handlers and URLs a payload could
    have planted. The page's own scripts come from /static/ or are inline without any payload."""
    parser = _Tags()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in FOREIGN_TAGS:
            found.append(f"<{tag} {attrs}>")
        if tag == "script" and attrs.get("src") and not attrs["src"].startswith("/static/"):
            found.append(f"<script src={attrs['src']!r}>")
        for name, value in attrs.items():
            if name.startswith("on") and value not in OWN_HANDLERS:
                found.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction", "xlink:href"} and (
                (value or "").strip().lower().startswith(("javascript:", "vbscript:", "data:text/html"))
            ):
                found.append(f"<{tag} {name}={value!r}>")
    found += [f"<script>{body[:40]}" for body in _script_bodies(html) if "xss-" in body]
    return found


def assert_safe_and_formatted(html: str, where: str):
    assert dangerous(html) == [], where
    assert "<strong>bold survives</strong>" in html, where
    assert "<em>italic survives</em>" in html, where


@pytest.fixture
def planted(db, client_for, pm, ops, capability, session):
    """The payload written everywhere a person writes, through the pages and the API."""
    pm_page = client_for(pm)
    api = APIClient()
    api.force_authenticate(pm)
    due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()

    # The decision requested, on the session page.
    response = pm_page.post(
        reverse("forums:session-decision", kwargs={"pk": session.pk}), {"decision_requested": PAYLOAD}
    )
    assert response.status_code == 302

    # An assumption (the hypothesis), its evidence and decision impact, through the API.
    response = api.post(
        "/api/v1/assumptions/",
        {
            "capability": capability.slug,
            "statement": PAYLOAD,
            "type": "value",
            "owner": pm.username,
            "evidence": PAYLOAD,
            "confidence": "medium",
            "expires_on": due,
            "decision_impact": PAYLOAD,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()

    # A decision with its options and review trigger, through the API.
    response = api.post(
        "/api/v1/decisions/",
        {
            "capability": capability.slug,
            "type": "restrict",
            "decision": PAYLOAD,
            "options_considered": PAYLOAD,
            "owner": pm.username,
            "review_trigger": PAYLOAD,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()

    # An action with its criterion (API), blocked with a reason (API) ...
    response = api.post(
        "/api/v1/actions/",
        {
            "capability": capability.slug,
            "action": SHORT_PAYLOAD,
            "owner": ops.username,
            "due_date": due,
            "closure_criterion": PAYLOAD,
            "source_signal": PAYLOAD,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    blocked_id = response.json()["readable_id"]
    ops_api = APIClient()
    ops_api.force_authenticate(ops)
    response = ops_api.post(f"/api/v1/actions/{blocked_id}/block/", {"reason": PAYLOAD}, format="json")
    assert response.status_code == 200, response.json()

    # ... and another whose owner submits closure evidence on its page.
    response = api.post(
        "/api/v1/actions/",
        {
            "capability": capability.slug,
            "action": "Sample 50 edited suggestions",
            "owner": ops.username,
            "due_date": due,
            "closure_criterion": "QA sample below warning",
        },
        format="json",
    )
    evidence_id = response.json()["readable_id"]
    ops_page = client_for(ops)
    response = ops_page.post(
        reverse("actions:action-submit-evidence", args=[evidence_id]), {"text": PAYLOAD, "link": ""}
    )
    assert response.status_code == 302
    client_for(pm)  # the shared test client acts as the PM again

    return {
        "session": session,
        "assumption": Assumption.objects.get(statement=PAYLOAD),
        "decision": Decision.objects.get(decision=PAYLOAD),
        "blocked": Action.objects.get(readable_id=blocked_id),
        "with_evidence": Action.objects.get(readable_id=evidence_id),
    }


def pages_of(planted) -> dict[str, str]:
    return {
        "session": planted["session"].get_absolute_url(),
        "assumption": planted["assumption"].get_absolute_url(),
        "decision": planted["decision"].get_absolute_url(),
        "blocked action": planted["blocked"].get_absolute_url(),
        "action with evidence": planted["with_evidence"].get_absolute_url(),
    }


def test_the_payload_is_stored_as_written(planted):
    """Nothing is 'cleaned' on the way in: the record keeps what the person typed."""
    assert planted["assumption"].evidence == PAYLOAD
    assert planted["blocked"].blocked_reason == PAYLOAD
    assert planted["with_evidence"].evidence.get().text == PAYLOAD


def test_every_page_shows_the_markdown_and_no_script(planted, client_for, viewer, make_person, capability):
    reader = make_person("viewer", capability, username="reader")
    client = client_for(reader)
    for where, url in pages_of(planted).items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_safe_and_formatted(response.content.decode(), where)


def test_the_meeting_notes_partial_is_safe_too(planted, client_for, pm):
    from forums.meeting import meeting_start

    session = meeting_start(session=planted["session"], by=pm)
    response = client_for(pm).post(
        reverse("forums:session-note", kwargs={"pk": session.pk}),
        {"block": "Quality and eval", "text": PAYLOAD},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert_safe_and_formatted(response.content.decode(), "notes partial")
    assert_safe_and_formatted(client_for(pm).get(session.get_absolute_url()).content.decode(), "meeting page")


def test_the_dangerous_helper_sees_a_payload_rendered_raw():
    """The check above proves something: the same payload without the Markdown filter is caught."""
    found = dangerous(f"<div>{PAYLOAD}</div>")
    assert any("script" in item for item in found)
    assert any("onerror" in item for item in found)
    assert any("iframe" in item for item in found)
    assert any("javascript:" in item.lower() for item in found)


# --- the PDF review pack ----------------------------------------------------------------------------


def pdf_runs(pdf: bytes) -> list[tuple[str, str]]:
    """(text, font name) of every text run in the PDF."""
    runs = []
    for page in PdfReader(io.BytesIO(pdf)).pages:

        def visit(text, _cm, _tm, font, _size):
            if text.strip():
                runs.append((text, str((font or {}).get("/BaseFont", ""))))

        page.extract_text(visitor_text=visit)
    return runs


def test_the_pack_page_and_pdf_keep_the_markdown_and_leak_no_tag(planted, client_for, pm):
    session = planted["session"]
    pm_page = client_for(pm)
    response = pm_page.post(reverse("forums:session-pack-build", kwargs={"pk": session.pk}))
    assert response.status_code in (200, 302)

    html = pm_page.get(reverse("forums:session-pack", kwargs={"pk": session.pk})).content.decode()
    assert_safe_and_formatted(html, "pack page")

    response = pm_page.get(reverse("forums:session-pack-pdf", kwargs={"pk": session.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    runs = pdf_runs(response.content)
    text = "".join(run for run, _font in runs)
    for leak in (
        "<script",
        "</script",
        "<img",
        "onerror",
        "<iframe",
        "<svg",
        "ontoggle",
        "javascript:",
        "alert(",
        "**",
        "&lt;",
        "&gt;",
    ):
        assert leak.lower() not in text.lower(), leak
    # Decision requested, action, blocked reason, assumption, its evidence and decision impact.
    assert text.count("bold survives") >= 6
    bold_fonts = {font for run, font in runs if "bold survives" in run}
    italic_fonts = {font for run, font in runs if "italic survives" in run}
    assert bold_fonts and all("Bold" in font for font in bold_fonts), bold_fonts
    assert italic_fonts and all("Italic" in font or "Oblique" in font for font in italic_fonts), italic_fonts


# --- a real browser: nothing runs ---------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_dialog_opens_in_chromium_on_any_page(planted, log_in, page, live_server, make_person, capability):
    make_person("viewer", capability, username="reader")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in("reader")
    for where, url in pages_of(planted).items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        strong = page.locator("strong", has_text="bold survives")
        assert strong.count() >= 1, where
        # Hover and click every link a payload could have shaped; none may run anything.
        for link in page.locator("a", has_text="titled").all() + page.locator("a", has_text="click me").all():
            link.hover()
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith("javascript:"), where
        assert (
            page.evaluate(
                "() => document.querySelectorAll('iframe, svg[onload], img[onerror], details[ontoggle]').length"
            )
            == 0
        ), where
    assert dialogs == []
