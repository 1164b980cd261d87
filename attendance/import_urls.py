from django.urls import path

from . import import_views as views

app_name = "imports"

urlpatterns = [
    path("", views.history, name="history"),
    path("ny/", views.upload, name="upload"),
    path("<uuid:public_id>/", views.result, name="result"),
    path("<uuid:public_id>/status/", views.status, name="status"),
]
