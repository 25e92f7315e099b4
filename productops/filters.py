"""Filters the lists of several apps share."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField
from rest_framework import exceptions, filters


class MomentField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC.

    Python reads any offset up to ±23:59 (``2026-03-02T10:00+16:37``), PostgreSQL only up to
    ±15:59: compared as written, such a moment made the query fail. In UTC it is the same moment
    and any offset reads; one too near the ends of the calendar to be written in UTC is refused.
    """

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError as error:
            raise ValidationError(
                _("Enter a date and time between the years 1 and 9999."), code="invalid"
            ) from error


class MomentFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` through ``MomentField``."""

    field_class = MomentField


class SearchFilter(filters.SearchFilter):
    """DRF's ``?search=``, whose refusal (a NUL in the text) names the parameter like every
    other 400 of the API, instead of answering a bare list of reasons."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.search_param: error.detail}) from error
