"""Writes to a municipality's school calendar: its terms and breaks, checked against the
rest of its calendar, saved and audited. The administrator edits them on the
administration site (``attendance.admin``), which checks with the same functions."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sst import audit
from sst.models import Municipality, User

from .calendar import SchoolCalendar, Term, calendar_for, recorded_term
from .models import SchoolBreak, SchoolTerm, school_year_of


def _day(day: datetime.date) -> str:
    return date_format(day, "j F Y")


def _span(start: datetime.date, end: datetime.date) -> str:
    return f"{_day(start)} – {_day(end)}"


def check_term(term: SchoolTerm) -> None:
    """Refuse a term that would overlap another term of the municipality's calendar, or
    make two of one season in a school year. (``SchoolTerm.clean`` checks the term alone.)"""
    if term.starts_on is None or term.ends_on is None or term.municipality_id is None:
        return
    school_year = school_year_of(term.starts_on)
    others = SchoolTerm.objects.filter(municipality_id=term.municipality_id).exclude(pk=term.pk)
    twin = next(
        (
            other
            for other in others
            if school_year_of(other.starts_on) == school_year and other.season == term.season
        ),
        None,
    )
    if twin is not None:
        raise ValidationError(
            _(
                "The calendar already has the term %(name)s (%(span)s) for this school year. "
                "Change that term instead."
            )
            % {"name": twin.name, "span": _span(twin.starts_on, twin.ends_on)}
        )
    # The other season's term as the calendar has it: recorded, or the built-in one.
    calendar = SchoolCalendar(
        term.municipality_id,
        terms=[recorded_term(other.starts_on, other.ends_on) for other in others],
    )
    for other in calendar.terms(school_year):
        if other.season != term.season and _overlaps(other, term.starts_on, term.ends_on):
            message = _("The term overlaps %(name)s (%(span)s).") % {
                "name": other.name,
                "span": _span(other.start, other.end),
            }
            if not other.recorded:
                message += " " + _(
                    "That is the built-in term: record %(name)s with its own dates first."
                ) % {"name": other.name}
            raise ValidationError(message)


def _overlaps(term: Term, start: datetime.date, end: datetime.date) -> bool:
    return term.start <= end and term.end >= start


def check_break(school_break: SchoolBreak) -> None:
    """Refuse a break outside its school year's teaching (before the first day of the
    autumn term or after the last day of the spring term) or overlapping another break the
    municipality recorded. (``SchoolBreak.clean`` checks the break alone.)"""
    start, end = school_break.starts_on, school_break.ends_on
    if start is None or end is None or school_break.municipality_id is None:
        return
    terms = calendar_for(school_break.municipality_id).terms(school_year_of(start))
    first, last = min(t.start for t in terms), max(t.end for t in terms)
    if start < first or end > last:
        raise ValidationError(
            _(
                "A break lies within the school year's teaching: from the first day of the "
                "autumn term (%(first)s) to the last day of the spring term (%(last)s)."
            )
            % {"first": _day(first), "last": _day(last)}
        )
    other = (
        SchoolBreak.objects.filter(
            municipality_id=school_break.municipality_id, starts_on__lte=end, ends_on__gte=start
        )
        .exclude(pk=school_break.pk)
        .order_by("starts_on")
        .first()
    )
    if other is not None:
        raise ValidationError(
            _("The break overlaps %(name)s (%(span)s). Change that one instead.")
            % {"name": str(other), "span": _span(other.starts_on, other.ends_on)}
        )


def _lock_calendar(municipality_id: int) -> None:
    """One calendar write at a time per municipality, so two overlapping terms or breaks
    cannot both pass their checks."""
    Municipality.objects.select_for_update().filter(pk=municipality_id).exists()


def _record(by: User | None, action: audit.AuditAction, kind: str, pk: int) -> None:
    audit.record(
        user=by,
        action=action,
        object_type=audit.AuditObjectType.SCHOOL_CALENDAR,
        object_id=f"{kind}:{pk}",
    )


def school_term_save(*, term: SchoolTerm, by: User | None) -> SchoolTerm:
    """Record a term, or change one: checked, saved, audited."""
    with transaction.atomic():
        _lock_calendar(term.municipality_id)
        term.full_clean()
        check_term(term)
        created = term.pk is None
        if created:
            term.save()
        else:
            term.save(update_fields=["municipality", "starts_on", "ends_on"])
        _record(
            by, audit.AuditAction.CREATE if created else audit.AuditAction.UPDATE, "term", term.pk
        )
    return term


def school_term_delete(*, term: SchoolTerm, by: User | None) -> None:
    """Remove a recorded term: the built-in term of its season holds again."""
    with transaction.atomic():
        pk = term.pk
        term.delete()
        _record(by, audit.AuditAction.DELETE, "term", pk)


def school_break_save(*, school_break: SchoolBreak, by: User | None) -> SchoolBreak:
    """Record a break, or change one: checked, saved, audited."""
    with transaction.atomic():
        _lock_calendar(school_break.municipality_id)
        school_break.full_clean()
        check_break(school_break)
        created = school_break.pk is None
        if created:
            school_break.save()
        else:
            school_break.save(
                update_fields=["municipality", "kind", "name", "starts_on", "ends_on"]
            )
        _record(
            by,
            audit.AuditAction.CREATE if created else audit.AuditAction.UPDATE,
            "break",
            school_break.pk,
        )
    return school_break


def school_break_delete(*, school_break: SchoolBreak, by: User | None) -> None:
    """Remove a recorded break (a default break of its kind holds again)."""
    with transaction.atomic():
        pk = school_break.pk
        school_break.delete()
        _record(by, audit.AuditAction.DELETE, "break", pk)
