"""The session store: Django's database sessions, with the one read every page makes (the
session of the request's cookie) written by hand (productops.reads). The ORM compiled that
read on every request; the table, the writes, expiry and ``clearsessions`` are Django's own."""

from django.contrib.sessions.backends import db
from django.utils import timezone

from productops.reads import fetch


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """The unexpired session of this key (None, and the key forgotten, when there is none),
        as Django's database store reads it; ``load`` reads only its data."""
        rows = fetch(
            "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
            [self.session_key, timezone.now()],
        )
        if not rows:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=rows[0][0])
