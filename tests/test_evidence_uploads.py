"""Evidence uploads (issue 9): limited in size and in type — judged by the content, not only the
name — with a field error naming the file; stored under a private MEDIA_ROOT outside the static
files; handed back only to people who may read the action or release, as a sandboxed download."""

import datetime
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from actions.models import ClosureEvidence
from releases.models import EvidenceItem

pytestmark = pytest.mark.django_db

TEN_MB = 10 * 1024 * 1024


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def office_bytes(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(part, "<document/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'

GOOD = {
    "qa-sample.pdf": PDF,
    "screenshot.png": None,  # filled in by good_files(): a real PNG
    "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32,
    "qa-sample.csv": "case,defect,note\n1,0,Änderung\n".encode(),
    "qa-sample-excel.csv": "case;note\n1;café\n".encode("cp1252"),
    "qa-sample.xlsx": None,
    "memo.docx": None,
    "notes.txt": b"Sampled 50 suggestions; 0 defects of the class.\n",
}

# Name -> content that is not what the name says.
DISGUISED = {
    "qa-sample.pdf": EXE,
    "screenshot.png": SVG,
    "photo.jpg": HTML,
    "notes.txt": HTML,
    "qa-sample.csv": PDF,
    "qa-sample.xlsx": b"PK\x03\x04" + b"\x00" * 40,
    "memo.docx": None,  # a real workbook renamed .docx (filled in below)
}


def good_files():
    files = dict(GOOD)
    files["screenshot.png"] = png_bytes()
    files["qa-sample.xlsx"] = office_bytes("xl/workbook.xml")
    files["memo.docx"] = office_bytes("word/document.xml")
    return files


def disguised_files():
    files = dict(DISGUISED)
    files["memo.docx"] = office_bytes("xl/workbook.xml")
    return files


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(make_person, capability):
    return make_person("ops", capability, username="owner")


@pytest.fixture
def reviewer(make_person, capability):
    return make_person("risk_compliance", capability, username="reviewer")


@pytest.fixture
def capability_viewer(make_person, capability):
    return make_person("viewer", capability, username="capability-viewer")


@pytest.fixture
def action(capability, pm, owner, reviewer):
    from actions.services import action_create

    return action_create(
        capability=capability,
        by=pm,
        action="Sample 50 edited suggestions",
        owner=owner,
        reviewer=reviewer,
        due_date=timezone.localdate() + datetime.timedelta(days=7),
        closure_criterion="QA sample shows the defect class below warning",
    )


@pytest.fixture
def analyst(make_person, capability):
    return make_person("analytics", capability, username="analyst")


@pytest.fixture
def release(capability, make_person):
    from releases.services import release_create

    architect = make_person("ai_architect", capability, username="architect")
    today = timezone.localdate()
    return release_create(
        by=architect,
        capability=capability,
        planned_date=today + datetime.timedelta(days=7),
        object_type="prompt",
        change="Shorter billing suggestions",
        version_from="v11",
        version_to="v12",
        affected_population="Billing intents",
        owner=architect,
        canary_plan="North team",
        rollback_plan="Re-pin v11",
        post_release_review_date=today + datetime.timedelta(days=35),
    )


def submit_on_page(client, action, name, content):
    url = reverse("actions:action-submit-evidence", args=[action.readable_id])
    return client.post(url, {"text": "Sample attached", "file": SimpleUploadedFile(name, content)})


def submit_through_api(api, action, name, content):
    return api.post(
        f"/api/v1/actions/{action.readable_id}/submit-evidence/",
        {"text": "Sample attached", "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def attest_on_page(client, release, name, content):
    url = reverse("releases:release-attest", args=[release.readable_id, "regression_eval"])
    return client.post(url, {"file": SimpleUploadedFile(name, content), "note": "120 cases"})


def attest_through_api(api, release, name, content):
    return api.post(
        f"/api/v1/releases/{release.readable_id}/attest/",
        {"item": "regression_eval", "file": SimpleUploadedFile(name, content), "note": "120 cases"},
        format="multipart",
    )


def page_file_error(response) -> str:
    """The file field's error on the re-shown form (the action's evidence move, or the release's
    attestation)."""
    if "evidence_items" in response.context:
        form = next(item.form for item in response.context["evidence_items"] if item.key == "regression_eval")
    else:
        form = next(e["form"] for e in response.context["moves"] if e["move"] == "submit_evidence")
    return " ".join(form.errors.get("file", []))


def stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- size and type -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOOD))
def test_each_accepted_type_is_stored_when_its_content_matches(client_for, action, owner, name):
    content = good_files()[name]
    response = submit_on_page(client_for(owner), action, name, content)
    assert response.status_code == 302, page_file_error(response)
    evidence = action.evidence.get()
    assert evidence.filename == name
    assert (Path(django_settings.MEDIA_ROOT) / evidence.file.name).read_bytes() == content


@pytest.mark.parametrize("name", sorted(DISGUISED))
def test_a_disguised_file_is_refused_on_the_page_naming_the_file(client_for, action, owner, name):
    response = submit_on_page(client_for(owner), action, name, disguised_files()[name])
    assert response.status_code == 200  # the action page shown again with the form's errors
    error = page_file_error(response)
    assert f"“{name}” is not a {name.rsplit('.', 1)[1].upper()} file" in error
    assert "content does not match its name" in error
    assert error in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert not ClosureEvidence.objects.exists() and stored_files() == []


def test_a_program_or_page_under_an_unknown_name_is_refused(client_for, action, owner):
    for name, content in [("payload.exe", EXE), ("page.html", HTML), ("image.svg", SVG), ("noext", PDF)]:
        error = page_file_error(submit_on_page(client_for(owner), action, name, content))
        assert "Evidence files must be one of pdf, png, jpg, jpeg, csv, xlsx, docx, txt" in error
        assert f"“{name}” is not" in error
    assert not ClosureEvidence.objects.exists() and stored_files() == []


def test_an_oversize_file_is_refused_with_its_size(client_for, action, owner):
    response = submit_on_page(client_for(owner), action, "qa-sample.pdf", PDF + b"0" * TEN_MB)
    assert response.status_code == 200
    assert "Evidence files may be at most 10 MB; “qa-sample.pdf” is 10.0 MB." in page_file_error(response)
    assert not ClosureEvidence.objects.exists() and stored_files() == []


def test_exactly_ten_megabytes_is_accepted(client_for, action, owner):
    content = PDF + b"0" * (TEN_MB - len(PDF))
    assert submit_on_page(client_for(owner), action, "qa-sample.pdf", content).status_code == 302
    assert action.evidence.get().file.size == TEN_MB


def test_the_api_refuses_the_same_files_with_the_field_and_reason(api_for, action, owner):
    api = api_for(owner)
    for name, content, reason in [
        ("qa-sample.pdf", EXE, "“qa-sample.pdf” is not a PDF file"),
        ("payload.exe", EXE, "Evidence files must be one of"),
        ("qa-sample.csv", b"a,b\n" * (TEN_MB // 4 + 1), "at most 10 MB"),
    ]:
        response = submit_through_api(api, action, name, content)
        assert response.status_code == 400, response.content
        assert reason in " ".join(response.json()["file"]), response.json()
    assert not ClosureEvidence.objects.exists() and stored_files() == []
    assert submit_through_api(api, action, "qa-sample.pdf", PDF).status_code == 200


def test_release_attestations_check_the_content_on_the_page_and_the_api(
    client_for, api_for, release, analyst
):
    response = attest_on_page(client_for(analyst), release, "eval.json", b"{not json")
    assert response.status_code == 400
    assert "“eval.json” is not a JSON file" in page_file_error(response)
    response = attest_through_api(api_for(analyst), release, "eval.pdf", HTML)
    assert response.status_code == 400
    assert "“eval.pdf” is not a PDF file" in " ".join(response.json()["file"])
    assert not release.evidence_items.exclude(file="").exists() and stored_files() == []

    assert attest_on_page(client_for(analyst), release, "eval.json", b'{"cases": 120}').status_code == 302
    assert release.evidence_items.get(key="regression_eval").filename == "eval.json"


# --- where files live ------------------------------------------------------------------------------


def test_the_configured_media_root_is_outside_everything_served_as_static():
    media = Path(django_settings.MEDIA_ROOT).resolve()
    static = [Path(django_settings.STATIC_ROOT)] + [
        Path(entry[1] if isinstance(entry, tuple) else entry) for entry in django_settings.STATICFILES_DIRS
    ]
    for folder in static:
        folder = folder.resolve()
        assert folder not in media.parents and media not in folder.parents and media != folder


def test_a_media_root_inside_the_static_root_stops_start_up(settings):
    settings.MEDIA_ROOT = Path(settings.STATIC_ROOT) / "media"
    with pytest.raises(SystemCheckError, match="productops.E001"):
        call_command("check")


def test_a_stored_file_is_not_reachable_by_a_static_or_media_url(
    client_for, action, owner, capability_viewer
):
    submit_on_page(client_for(owner), action, "qa-sample.pdf", PDF)
    name = action.evidence.get().file.name
    assert name.startswith(f"actions/evidence/{action.readable_id}/")
    client = client_for(capability_viewer)
    for url in (f"/static/{name}", f"/media/{name}", f"/static/../media/{name}", f"/{name}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"%PDF" not in (
            b"".join(response.streaming_content) if response.streaming else response.content
        )


# --- who may download -------------------------------------------------------------------------------


def download(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return response, body


def test_an_action_file_is_served_only_to_people_who_may_read_the_action(
    client_for, action, owner, capability_viewer, outsider
):
    submit_on_page(client_for(owner), action, "qa-sample.pdf", PDF)
    url = action.evidence.get().get_file_url()

    response, body = download(Client(), url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert body == b""

    response, body = download(client_for(outsider), url)
    assert response.status_code == 404 and PDF not in body

    response, body = download(client_for(capability_viewer), url)
    assert response.status_code == 200 and body == PDF
    assert response["Content-Disposition"] == 'attachment; filename="qa-sample.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"


def test_an_evidence_id_of_another_action_is_not_served_through_this_one(
    client_for, action, owner, capability_viewer, make_person, other_capability, pm
):
    from actions.services import action_create

    outsider_owner = make_person("ops", other_capability, username="other-owner")
    other_pm = make_person("ai_pm", other_capability, username="other-pm")
    other = action_create(
        capability=other_capability,
        by=other_pm,
        action="Their action",
        owner=outsider_owner,
        due_date=timezone.localdate() + datetime.timedelta(days=7),
        closure_criterion="Theirs",
    )
    other.submit_evidence(by=outsider_owner, text="Theirs", file=SimpleUploadedFile("theirs.pdf", PDF))
    their_evidence = other.evidence.get()
    url = reverse("actions:evidence-file", args=[action.readable_id, their_evidence.pk])
    response, body = download(client_for(capability_viewer), url)
    assert response.status_code == 404 and PDF not in body


def test_a_release_file_is_served_only_to_people_who_may_read_the_release(
    client_for, release, analyst, capability_viewer, outsider
):
    attest_on_page(client_for(analyst), release, "eval.pdf", PDF)
    item = EvidenceItem.objects.get(release=release, key="regression_eval")
    url = item.get_file_url()

    response, _body = download(Client(), url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response, body = download(client_for(outsider), url)
    assert response.status_code == 404 and PDF not in body
    response, body = download(client_for(capability_viewer), url)
    assert response.status_code == 200 and body == PDF
    assert response["Content-Disposition"] == 'attachment; filename="eval.pdf"'
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
