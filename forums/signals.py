"""What the forums announce to the apps above them (which may listen; forums import none)."""

from django.dispatch import Signal

# Sent in the transaction that publishes a session's minutes, with ``session``.
minutes_published = Signal()
