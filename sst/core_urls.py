from django.urls import path

from . import views

app_name = "sst"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("logga-in/", views.login_view, name="login"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("tvafaktor/verifiera/", views.otp_verify, name="otp_verify"),
    path("tvafaktor/aktivera/", views.otp_setup, name="otp_setup"),
    path("granskningslogg/", views.audit_log, name="audit_log"),
    path("health/", views.health, name="health"),
]
