from django.urls import path

from . import views

app_name = "attendance"

urlpatterns = [
    path("elev/<uuid:public_id>/", views.student_absence, name="student"),
    path("skola/<str:unit_code>/", views.school_overview, name="school_overview"),
    path("skola/<str:unit_code>/export.csv", views.school_export, name="school_export"),
    path("larm/<uuid:alert_id>/kvittera/", views.alert_acknowledge, name="alert_acknowledge"),
    path("inkorg/kvittera/", views.inbox_acknowledge, name="inbox_acknowledge"),
]
