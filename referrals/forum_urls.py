"""URLs of the forum pages (see referrals/urls.py): meetings, agendas, decisions, minutes,
the queue and the caseloads."""

from django.urls import URLPattern, path

from . import forum_views as views

urlpatterns: list[URLPattern] = [
    path("", views.meeting_list, name="meeting_list"),
    path("mote/nytt/", views.meeting_add, name="meeting_add"),
    path("mote/<uuid:public_id>/", views.meeting_detail, name="meeting_detail"),
    path("mote/<uuid:public_id>/flytta/", views.meeting_move, name="meeting_move"),
    path("mote/<uuid:public_id>/stall-in/", views.meeting_cancel, name="meeting_cancel"),
    path("mote/<uuid:public_id>/dagordning/", views.meeting_prepare, name="meeting_prepare"),
    path(
        "mote/<uuid:public_id>/beslut/<uuid:referral_id>/",
        views.decision_create,
        name="decision_create",
    ),
    path("mote/<uuid:public_id>/protokoll/", views.minutes, name="minutes"),
    path(
        "mote/<uuid:public_id>/protokoll/godkann/",
        views.minutes_approve,
        name="minutes_approve",
    ),
    path("mote/<uuid:public_id>/protokoll/pdf/", views.minutes_pdf, name="minutes_pdf"),
    path("ko/", views.queue, name="queue"),
    path("ko/<uuid:referral_id>/tilldela/", views.queue_assign, name="queue_assign"),
    path("ko/<uuid:referral_id>/flytta/", views.queue_reorder, name="queue_reorder"),
    path("arbetsfordelning/", views.caseload, name="caseload"),
]
