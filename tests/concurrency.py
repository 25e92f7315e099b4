"""Helpers of the reliability tests: real HTTP requests from many threads released at once.

The requests go to a real server (pytest-django's ``live_server``, or a process a test starts)
over the loopback interface, each on its own connection, so each is served by its own thread and
its own database connection, as in production.
"""

import threading
from dataclasses import dataclass

import requests

# A fixed CSRF secret sent as both the cookie and the header: Django compares the two (the
# browser gets its own from a page; a test client may send any well-formed one).
CSRF_SECRET = "reliabilitytestcsrfsecret0123456"
# A request that does not answer in this time is a hang: the test fails naming it.
REQUEST_TIMEOUT = 30


@dataclass
class SignedIn:
    """What a signed-in browser sends with an unsafe request: its cookies and the CSRF header."""

    cookies: dict
    headers: dict


def signed_in(user) -> SignedIn:
    """A session for ``user`` in the database, with the cookies and header a browser would send."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return SignedIn(
        cookies={settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: CSRF_SECRET},
        headers={"X-CSRFToken": CSRF_SECRET, "Accept": "application/json"},
    )


@dataclass
class Answer:
    """What one request got back: the status (0 when it raised) and the body. For a page POST
    answered by a redirect, ``page`` is the text of the page it led to (with its messages)."""

    status: int
    body: object
    error: str = ""
    page: str = ""


def _answer(response: requests.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Answer(response.status_code, body)


def post(url: str, *, auth: SignedIn, json=None, data=None) -> Answer:
    """One API POST on a fresh connection; a connection error or a timeout is an answer with
    status 0."""
    try:
        with requests.Session() as session:
            response = session.post(
                url, json=json, data=data, cookies=auth.cookies, headers=auth.headers, timeout=REQUEST_TIMEOUT
            )
            return _answer(response)
    except requests.RequestException as error:
        return Answer(0, None, f"{type(error).__name__}: {error}")


def post_form(url: str, *, auth: SignedIn, data: dict) -> Answer:
    """A page's form POST, as a browser sends it; when answered by a redirect, the page it leads
    to is fetched with the cookies the answer set (the flash message travels in one)."""
    headers = {**auth.headers, "Accept": "text/html", "Referer": url}
    try:
        with requests.Session() as session:
            response = session.post(
                url,
                data=data,
                cookies=auth.cookies,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
                allow_redirects=False,
            )
            answer = Answer(response.status_code, response.text)
            if response.is_redirect:
                # The test server speaks plain HTTP: pass on cookies set "Secure" by hand.
                cookies = {**auth.cookies, **{cookie.name: cookie.value for cookie in response.cookies}}
                target = requests.compat.urljoin(url, response.headers["Location"])
                answer.page = session.get(
                    target, cookies=cookies, headers=headers, timeout=REQUEST_TIMEOUT
                ).text
            return answer
    except requests.RequestException as error:
        return Answer(0, None, f"{type(error).__name__}: {error}")


def race(calls) -> list[Answer]:
    """Run each of ``calls`` (functions returning an Answer) in its own thread, all released at
    the same instant by a barrier; the answers in the order of ``calls``."""
    calls = list(calls)
    start = threading.Barrier(len(calls))
    answers: list[Answer | None] = [None] * len(calls)

    def run(index, call):
        from django.db import connections

        try:
            start.wait()
            answers[index] = call()
        except Exception as error:  # noqa: BLE001 - reported as the answer, the test asserts on it
            answers[index] = Answer(0, None, f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT * 2)
    return answers


def statuses(answers: list[Answer]) -> dict[int, int]:
    """How many answers had each status: {200: 1, 409: 19}."""
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return dict(sorted(counts.items()))
