"""Forms of the forums app, one module per area (calendar; meeting; packs; memos; portfolio review)."""

from forums.forms.calendar import DecisionRequestedForm, ForumForm  # noqa: F401
