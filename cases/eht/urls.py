"""The student health team's pages and the principal's step-4 pages (namespace "cases")."""

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("eht/<str:unit_code>/", views.eht_school, name="eht_school"),
    path("eht/<str:unit_code>/dagordning/", views.eht_agenda, name="eht_agenda"),
    path("eht/<str:unit_code>/moten/", views.eht_meeting_create, name="eht_meeting_create"),
    path("eht/arende/<uuid:case_id>/", views.eht_case, name="eht_case"),
    path("eht/beslut/<uuid:decision_id>/klart/", views.eht_decision_done, name="eht_decision_done"),
    path("rektor/<str:unit_code>/", views.principal_report, name="principal_report"),
    path(
        "rektor/<str:unit_code>/utskrift/",
        views.principal_report_print,
        name="principal_report_print",
    ),
    path("rektor/elev/<uuid:student_id>/", views.principal_student, name="principal_student"),
]
