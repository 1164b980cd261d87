from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.student_list, name="student_list"),
    path("<uuid:public_id>/", views.student_detail, name="student_detail"),
]
