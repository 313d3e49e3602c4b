from django.urls import path

from kpis import views

app_name = "kpis"
urlpatterns = [
    path("", views.home, name="home"),
    path("definitions/", views.kpi_list, name="kpi_list"),
    path("definitions/new/", views.kpi_create, name="kpi_create"),
    path("definitions/preview/", views.formula_preview, name="formula_preview"),
    path("definitions/<int:pk>/", views.kpi_detail, name="kpi_detail"),
    path("definitions/<int:pk>/change/", views.kpi_change, name="kpi_change"),
    path("versions/<int:pk>/decide/", views.version_decide, name="version_decide"),
    path("scorecards/new/", views.scorecard_create, name="scorecard_create"),
    path("scorecards/<int:pk>/", views.scorecard_detail, name="scorecard_detail"),
    path("scorecards/<int:pk>/close/", views.scorecard_close, name="scorecard_close"),
    path("scorecards/<int:pk>/credit-terms/", views.scorecard_terms, name="scorecard_terms"),
    path("compare/", views.compare, name="compare"),
    path("periods/<int:pk>/", views.period_detail, name="period_detail"),
    path("periods/<int:pk>/recompute/", views.period_recompute, name="period_recompute"),
    path("periods/<int:pk>/versions/", views.period_compare, name="period_compare"),
    path("periods/<int:pk>/statement.<str:fmt>", views.statement, name="statement"),
    path("results/<int:pk>/", views.result_detail, name="result_detail"),
    path("credits/", views.adjustment_list, name="adjustment_list"),
    path("credits/<int:pk>/decide/", views.adjustment_decide, name="adjustment_decide"),
    path("recommendations/<int:pk>/decide/", views.recommendation_decide, name="recommendation_decide"),
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/evidence/", views.submission_evidence, name="submission_evidence"),
    path("submissions/<int:pk>/decide/", views.submission_decide, name="submission_decide"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("subjects/", views.subject_list, name="subject_list"),
    path("standings/", views.standing_scheme_list, name="standing_scheme_list"),
    path("standings/new/", views.standing_scheme_create, name="standing_scheme_create"),
    path("scorecards/<int:pk>/lines/", views.scorecard_lines_edit, name="scorecard_lines"),
    path("improvement-plans/<int:pk>/", views.improvement_plan_act, name="improvement_plan_act"),
]
