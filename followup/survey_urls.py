"""The public satisfaction survey, under /enkat/ (namespace ``survey``): a one-time link
answers it without login."""

from django.urls import URLPattern, URLResolver, path

from . import survey_views

app_name = "survey"

urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>/", survey_views.survey_answer, name="answer"),
]
