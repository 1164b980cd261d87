"""Student and case URLs. Each area keeps its patterns in its own module."""

from django.urls import path

from . import views
from .case_urls import urlpatterns as case_patterns
from .checklist.urls import urlpatterns as checklist_patterns
from .eht.urls import urlpatterns as eht_patterns
from .mapping.urls import urlpatterns as mapping_patterns

app_name = "cases"

urlpatterns = [
    path("", views.student_list, name="student_list"),
    path("<uuid:public_id>/", views.student_detail, name="student_detail"),
    *case_patterns,
    *checklist_patterns,
    *eht_patterns,
    *mapping_patterns,
]
