"""The CSV upload page: a file becomes an import job that validates every line, then writes all
or nothing; its page follows the progress (htmx polling) and lists the errors by line."""

import csv
import io
import time
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts import ingest
from contracts.models import ImportJob, Observation
from contracts.tasks import import_observations_file
from contracts.tests.factories import MetricContractFactory
from contracts.tests.test_ingest import ingest_urlconf

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(capability):
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.repeat_contact_7d",
        cohort_dimensions=["intent", "team"],
    )


@pytest.fixture
def other_contract(other_capability):
    return MetricContractFactory(capability=other_capability, metric_id="kyc_onboarding.false_pass_rate")


UPLOAD = "/contracts/import/"
HEADER = [
    "contract",
    "period_start",
    "grain",
    "cohort.intent",
    "cohort.team",
    "version.prompt",
    "value",
    "numerator",
    "denominator",
    "sample_size",
]


@pytest.fixture(autouse=True)
def _urls_and_media(settings, tmp_path, monkeypatch):
    settings.ROOT_URLCONF = ingest_urlconf()
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))  # for a real worker process


def status_url(job):
    return f"/contracts/import/{job.pk}/"


def csv_bytes(lines, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue().encode()


def good_lines(contract, /, days=10, intents=("billing", "address_change")):
    return [
        [
            contract.metric_id,
            f"2026-06-{day + 1:02d}",
            "day",
            intent,
            "north",
            "v12",
            0.1 + day / 100,
            50,
            500,
            500,
        ]
        for day in range(days)
        for intent in intents
    ]


def upload(client, capability, content: bytes, name="observations.csv", capture=None):
    data = {"capability": capability.pk, "file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if capture is None:
        return client.post(UPLOAD, data)
    with capture(execute=True):
        return client.post(UPLOAD, data)


# The upload page -------------------------------------------------------------------------------


def test_the_upload_page_offers_the_capabilities_the_person_may_feed(
    client_for, pm, capability, other_capability
):
    response = client_for(pm).get(UPLOAD)
    assert response.status_code == 200
    choices = [choice for choice, _label in response.context["form"].fields["capability"].choices if choice]
    assert [choice.value for choice in choices] == [capability.pk]
    assert "cohort.&lt;dimension&gt;" in response.content.decode()


def test_a_viewer_may_not_open_the_upload_page(client_for, viewer):
    assert client_for(viewer).get(UPLOAD).status_code == 403


def test_anonymous_people_are_sent_to_log_in(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_outsider_cannot_upload_for_another_capability(client_for, outsider, capability, contract):
    response = upload(client_for(outsider), capability, csv_bytes(good_lines(contract)))
    assert response.status_code == 200
    assert "capability" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_only_csv_files_are_accepted(client_for, pm, capability, contract):
    response = upload(client_for(pm), capability, csv_bytes(good_lines(contract)), name="observations.xlsx")
    assert response.context["form"].errors["file"] == ["Upload a .csv file; “observations.xlsx” is not one."]
    assert not ImportJob.objects.exists()


def test_files_over_200_mb_are_refused():
    big = SimpleUploadedFile("big.csv", b"contract\n")
    big.size = 200 * 1024 * 1024 + 1
    with pytest.raises(ingest.ValidationError, match="at most 200 MB"):
        ingest.validate_import_file(big)


# A good file ------------------------------------------------------------------------------------


def test_a_good_file_is_imported_in_the_background_and_its_page_shows_the_counts(
    client_for, pm, capability, contract, django_capture_on_commit_callbacks
):
    client = client_for(pm)
    response = upload(
        client, capability, csv_bytes(good_lines(contract)), capture=django_capture_on_commit_callbacks
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == status_url(job)
    assert (job.state, job.total_rows, job.processed_rows, job.written_rows) == ("done", 20, 20, 20)
    assert (job.capability, job.created_by, job.original_name, job.errors) == (
        capability,
        pm,
        "observations.csv",
        [],
    )
    assert Observation.objects.count() == 20
    stored = Observation.objects.get(period_start="2026-06-01", cohort_key="intent=billing|team=north")
    assert (stored.value, stored.numerator, stored.version_set, stored.source) == (
        0.1,
        50,
        {"prompt": "v12"},
        "observations.csv",
    )

    page = client.get(status_url(job)).content.decode()
    assert "Done" in page
    assert "20 rows imported: 20 observations written or changed" in page
    assert "hx-trigger" not in page


def test_importing_the_same_file_again_writes_nothing_new(
    client_for, pm, capability, contract, django_capture_on_commit_callbacks
):
    client = client_for(pm)
    content = csv_bytes(good_lines(contract))
    upload(client, capability, content, capture=django_capture_on_commit_callbacks)
    before = list(Observation.objects.order_by("pk").values())
    upload(client, capability, content, capture=django_capture_on_commit_callbacks)
    second = ImportJob.objects.order_by("-pk").first()
    assert (second.state, second.processed_rows, second.written_rows) == ("done", 20, 0)
    assert list(Observation.objects.order_by("pk").values()) == before


def test_cohort_and_version_set_may_come_as_json_columns(capability, contract, pm):
    content = csv_bytes(
        [
            [
                contract.metric_id,
                "2026-06-01",
                '{"intent": "billing", "team": "north"}',
                '{"prompt": "v12"}',
                0.2,
                40,
            ],
            [contract.metric_id, "2026-06-01", "", "", 0.3, 40],
        ],
        header=["contract", "period_start", "cohort", "version_set", "value", "sample_size"],
    )
    job = run_job(capability, pm, content)
    assert job.state == "done", job.errors
    assert sorted(Observation.objects.values_list("cohort_key", "version_key")) == [
        ("", ""),
        ("intent=billing|team=north", "prompt=v12"),
    ]


def run_job(capability, person, content: bytes, name="observations.csv") -> ImportJob:
    job = ImportJob.objects.create(
        capability=capability, created_by=person, original_name=name, file=SimpleUploadedFile(name, content)
    )
    import_observations_file.delay(job.pk)
    job.refresh_from_db()
    return job


def test_running_the_job_twice_does_nothing_the_second_time(capability, contract, pm):
    job = run_job(capability, pm, csv_bytes(good_lines(contract)))
    finished_at = job.finished_at
    assert ingest.import_job_run(job.pk) is None
    job.refresh_from_db()
    assert (job.state, job.written_rows, job.finished_at) == ("done", 20, finished_at)


def test_progress_is_recorded_chunk_by_chunk(capability, contract, pm, monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 8)
    seen = []
    real = ingest._progress

    def spy(job_id, **fields):
        seen.append(fields)
        real(job_id, **fields)

    monkeypatch.setattr(ingest, "_progress", spy)
    job = run_job(capability, pm, csv_bytes(good_lines(contract, days=10)))

    assert [fields["processed_rows"] for fields in seen if "processed_rows" in fields] == [8, 16, 20, 20]
    assert seen[0] == {"total_rows": 20}
    assert seen[-1]["state"] == "done" and seen[-1]["written_rows"] == 20
    assert (job.state, job.processed_rows, job.written_rows) == ("done", 20, 20)


# A bad file -------------------------------------------------------------------------------------


def test_a_file_with_bad_lines_writes_nothing_and_lists_each_error_by_line(
    client_for, pm, capability, contract, django_capture_on_commit_callbacks
):
    lines = good_lines(contract)
    lines[2][8] = "0"  # denominator, line 4 of the file (the header is line 1)
    lines[5][6] = "high"  # value
    lines[5][1] = "2026-06-31"  # period_start
    lines[11][3:5] = ["billing", ""]
    lines[11][2] = "week"  # 2026-06-06 is a Saturday
    client = client_for(pm)

    upload(client, capability, csv_bytes(lines), capture=django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert (job.state, job.total_rows, job.processed_rows, job.written_rows) == ("failed", 20, 20, 0)
    assert [(e["line"], e["row"], e["field"]) for e in job.errors] == [
        (4, 3, "denominator"),
        (7, 6, "period_start"),
        (7, 6, "value"),
        (13, 12, "period_start"),
    ]
    assert not Observation.objects.exists()
    page = client.get(status_url(job)).content.decode()
    assert "The file has 4 errors; nothing was written." in page
    assert "The denominator must be greater than 0." in page
    assert "A weekly period starts on a Monday; 2026-06-06 is a Saturday." in page


def test_a_duplicate_in_a_later_chunk_names_the_earlier_row(capability, contract, pm, monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 5)
    lines = good_lines(contract)
    lines.append(list(lines[1]))
    job = run_job(capability, pm, csv_bytes(lines))
    assert job.state == "failed"
    assert [(e["line"], e["field"]) for e in job.errors] == [(22, "non_field_errors")]
    assert "as row 2" in job.errors[0]["error"]


def test_errors_past_200_are_counted_not_listed_and_the_page_costs_the_same_queries(
    client_for, pm, capability, contract
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lines = good_lines(contract, days=30, intents=[f"intent_{n}" for n in range(10)])
    for line in lines[:250]:
        line[9] = "-1"
    job = run_job(capability, pm, csv_bytes(lines))
    assert (job.state, job.total_rows, job.processed_rows, job.written_rows) == ("failed", 300, 300, 0)
    assert len(job.errors) == ingest.MAX_LISTED_ERRORS + 1
    assert ingest.error_count(job) == 250
    small = run_job(capability, pm, csv_bytes(lines[249:]))
    assert ingest.error_count(small) == 1

    client = client_for(pm)
    client.get(status_url(small))  # the session is loaded and saved once
    with CaptureQueriesContext(connection) as few:
        client.get(status_url(small))
    with CaptureQueriesContext(connection) as many:
        page = client.get(status_url(job)).content.decode()
    assert len(many) == len(few)
    assert "The file has 250 errors; nothing was written." in page
    assert "… and 50 more errors (250 in all)." in page
    assert page.count("The sample size cannot be negative.") == 200


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "The file is empty"),
        (b"contract,period_start,value,sample_size,colour\n", "Unknown columns: colour."),
        (b"contract,period_start,value\nx,2026-06-01,1\n", "Missing columns: sample_size."),
        (b"contract,period_start,value,sample_size\n", "has a header but no rows"),
        (
            "contract,period_start,value,sample_size\nm\xe9trique,2026-06-01,1,1\n".encode("latin-1"),
            "not UTF-8",
        ),
    ],
)
def test_a_file_that_is_not_an_observations_csv_fails_with_a_reason(capability, pm, content, words):
    job = run_job(capability, pm, content)
    assert job.state == "failed"
    assert words in job.errors[0]["error"]
    assert job.errors[0]["field"] == "file"


def test_a_line_with_more_cells_than_the_header_is_an_error(capability, contract, pm):
    content = (
        f"contract,period_start,value,sample_size\n{contract.metric_id},2026-06-01,1,5,surprise\n".encode()
    )
    job = run_job(capability, pm, content)
    assert job.errors == [
        {
            "row": 1,
            "line": 2,
            "field": "non_field_errors",
            "error": "This line has 5 cells; the header has 4.",
        }
    ]


def test_a_byte_order_mark_from_excel_is_ignored(capability, contract, pm):
    content = "\ufeff".encode() + csv_bytes(good_lines(contract, days=1))
    assert run_job(capability, pm, content).state == "done"


def test_a_contract_of_another_capability_is_refused_in_the_file(
    capability, contract, other_contract, org_pm
):
    lines = good_lines(contract, days=1)
    lines.append([other_contract.metric_id, "2026-06-01", "day", "", "", "", 0.1, "", "", 100])
    job = run_job(capability, org_pm, csv_bytes(lines))
    assert job.state == "failed"
    assert [(e["line"], e["field"]) for e in job.errors] == [(4, "contract")]
    assert not Observation.objects.exists()


# The status page and its htmx partial ----------------------------------------------------------


@pytest.fixture
def running_job(capability, pm):
    return ImportJob.objects.create(
        capability=capability,
        created_by=pm,
        original_name="big.csv",
        file=SimpleUploadedFile("big.csv", b"x"),
        state="running",
        total_rows=40_000,
        processed_rows=10_000,
    )


def test_a_running_job_page_polls_its_progress_partial_every_second(client_for, pm, running_job):
    response = client_for(pm).get(status_url(running_job))
    page = response.content.decode()
    assert "<html" in page
    assert 'hx-trigger="every 1s"' in page
    assert f'hx-get="{status_url(running_job)}"' in page
    assert "Checking rows: 10,000 of about 40,000." in page
    assert 'aria-valuenow="25"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page  # without JavaScript
    assert "HX-Request" in response["Vary"]


def test_htmx_gets_only_the_progress_partial_and_polling_stops_when_done(client_for, pm, running_job):
    client = client_for(pm)
    partial = client.get(status_url(running_job), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial
    assert partial.lstrip().startswith('<div id="import-progress"')
    assert 'hx-trigger="every 1s"' in partial

    ImportJob.objects.filter(pk=running_job.pk).update(
        state="done", processed_rows=40_000, total_rows=40_000, written_rows=39_000
    )
    partial = client.get(status_url(running_job), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in partial
    assert "40,000 rows imported: 39,000 observations written or changed" in partial


def test_a_job_is_shown_to_its_capability_members_only(
    client_for, make_person, capability, outsider, running_job
):
    colleague = make_person("business_analyst", capability)
    assert client_for(colleague).get(status_url(running_job)).status_code == 200
    assert client_for(outsider).get(status_url(running_job)).status_code == 404


def test_the_status_page_refuses_post(client_for, pm, running_job):
    assert client_for(pm).post(status_url(running_job)).status_code == 405


def test_the_upload_page_lists_recent_jobs_of_visible_capabilities_only(
    client_for, pm, outsider, running_job, other_capability
):
    ImportJob.objects.create(
        capability=other_capability,
        created_by=outsider,
        original_name="secret.csv",
        file=SimpleUploadedFile("s.csv", b"x"),
    )
    page = client_for(pm).get(UPLOAD).content.decode()
    assert "big.csv" in page and "secret.csv" not in page


# A real worker (PostgreSQL + Redis) -------------------------------------------------------------


def test_a_real_celery_worker_imports_the_uploaded_file(real_celery_worker, make_person, capability, client):
    person = make_person("ai_pm", capability)
    feed = MetricContractFactory(capability=capability, cohort_dimensions=["intent", "team"])
    client.force_login(person)
    response = upload(client, capability, csv_bytes(good_lines(feed)))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    deadline = time.monotonic() + 30
    while job.state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert (job.state, job.processed_rows, job.written_rows) == ("done", 20, 20), (
        real_celery_worker.log_path.read_text()
    )
    assert Observation.objects.filter(contract=feed).count() == 20


def test_an_unexpected_error_marks_the_job_failed_and_writes_nothing(capability, contract, pm, monkeypatch):
    def explode(job_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest, "import_job_run", explode)
    with pytest.raises(RuntimeError):
        run_job(capability, pm, csv_bytes(good_lines(contract)))
    job = ImportJob.objects.get()
    assert job.state == "failed"
    assert job.errors == [
        {
            "row": None,
            "field": None,
            "error": "The import stopped on an unexpected error; nothing was written.",
        }
    ]
    assert not Observation.objects.exists()


def test_a_lost_database_is_retried_then_reported(capability, contract, pm, monkeypatch):
    from django.db import OperationalError

    class Retried(Exception):
        pass

    def unreachable(job_id):
        raise OperationalError("server closed the connection unexpectedly")

    job = ImportJob.objects.create(
        capability=capability, created_by=pm, original_name="o.csv", file=SimpleUploadedFile("o.csv", b"x")
    )
    monkeypatch.setattr(ingest, "import_job_run", unreachable)
    monkeypatch.setattr(import_observations_file, "retry", mock.Mock(side_effect=Retried))
    for retries, raised in [(0, Retried), (import_observations_file.max_retries, OperationalError)]:
        import_observations_file.push_request(id="task-1", retries=retries)
        try:
            with pytest.raises(raised):
                import_observations_file.run(job.pk)
        finally:
            import_observations_file.pop_request()
        job.refresh_from_db()
        if raised is Retried:
            assert job.state == "queued"  # left as it was for the retry
    assert job.state == "failed"
    assert "could not be reached" in job.errors[0]["error"]
