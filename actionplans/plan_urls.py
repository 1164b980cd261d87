"""The action plan's pages, by the case they belong to (/team/plan/<case>/…)."""

from django.urls import URLPattern, URLResolver, path

from . import plan_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("<uuid:case_id>/", views.plan_detail, name="plan_detail"),
    path("<uuid:case_id>/ny/", views.plan_create, name="plan_create"),
    path("<uuid:case_id>/andra/", views.plan_edit, name="plan_edit"),
    path("<uuid:case_id>/versioner/", views.plan_versions, name="plan_versions"),
    path("<uuid:case_id>/versioner/<int:number>/", views.plan_version, name="plan_version"),
    path("<uuid:case_id>/underskrifter/", views.plan_sign, name="plan_sign"),
    path("<uuid:case_id>/fortsattning/", views.plan_continuation, name="plan_continuation"),
    path("<uuid:case_id>/handlingsplan.pdf", views.plan_pdf, name="plan_pdf"),
]
