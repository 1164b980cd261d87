"""Students: the list a member of staff may see, and one student's page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from sst import access, audit

from .case_views import student_case_context
from .forms import StudentFilterForm, StudentSearchForm

PAGE_SIZE = 50


@access.staff_view
@require_http_methods(["GET", "POST"])
def student_list(request: HttpRequest) -> HttpResponse:
    students = access.students_visible_to(request.user).select_related("school", "mentor_group")
    groups = access.groups_visible_to(request.user).order_by("school__name", "name")
    filters = StudentFilterForm(request.GET or None)
    search = StudentSearchForm(request.POST or None)
    group = None
    if filters.is_valid():
        if filters.cleaned_data["group"]:
            group = groups.filter(pk=filters.cleaned_data["group"]).first()
            students = students.filter(mentor_group=group) if group else students.none()
        if filters.cleaned_data["grade"]:
            students = students.filter(grade=filters.cleaned_data["grade"])
    if request.method == "POST" and search.is_valid():
        for term in search.cleaned_data["name"].split():
            students = students.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term))
    page = Paginator(
        students.order_by("school__name", "mentor_group__name", "last_name", "first_name"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.STUDENT,
        role=access.student_access_roles(request.user),
        detail={
            "count": len(page.object_list),
            "page": page.number,
            "group": group.pk if group else None,
            "searched": request.method == "POST",
        },
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/student_list.html",
        {
            "page": page,
            "groups": groups,
            "group": group,
            "filters": filters,
            "search": search,
            "query": query.urlencode(),
        },
    )


@access.staff_view
@require_GET
def student_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    student, granted = access.access_student(request.user, public_id)
    custodies = student.custodies.select_related("guardian").order_by(
        "-has_custody", "guardian__last_name"
    )
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.STUDENT,
        object_id=str(student.public_id),
        student_id=student.public_id,
        role=access.role_for_student(request.user, student),
    )
    return render(
        request,
        "cases/student_detail.html",
        {
            "student": student,
            "custodies": custodies,
            "case_roles": access.Capability.WORK_CASES in granted,
            **student_case_context(request.user, student, granted),
        },
    )
