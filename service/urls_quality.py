"""URLs of the service-quality pages (included by ``service.urls``)."""

from django.urls import path

from service import views_quality as views

urlpatterns = [
    path("survey/<str:token>/", views.survey_answer, name="survey_answer"),
    path("quality/surveys/", views.survey_list, name="survey_list"),
    path("quality/codes/", views.code_list, name="code_list"),
    path("quality/codes/<int:pk>/", views.code_detail, name="code_detail"),
    path("quality/codes/<int:pk>/publish/", views.code_publish, name="code_publish"),
    path("quality/codes/<int:pk>/versions/", views.code_new_version, name="code_new_version"),
    path("quality/rubrics/", views.rubric_list, name="rubric_list"),
    path("quality/reviews/", views.qa_list, name="qa_list"),
    path("quality/reviews/<int:pk>/", views.qa_detail, name="qa_detail"),
    path("quality/staff/", views.staff_list, name="staff_list"),
    path("quality/staff/<int:pk>/", views.staff_detail, name="staff_detail"),
]
