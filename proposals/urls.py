from django.urls import path

from proposals import views

app_name = "proposals"
urlpatterns = [
    path("", views.home, name="home"),
    path("guidelines/", views.guidelines, name="guidelines"),
    path("guidelines/versions/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("criteria/", views.criteria, name="criteria"),
    path("strategy/", views.strategy, name="strategy"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/<int:pk>/status/", views.call_status, name="call_status"),
    path("calls/<int:pk>/weights/", views.rubric_weights, name="rubric_weights"),
    path("calls/<int:pk>/questions/", views.clarification_ask, name="ask"),
    path("calls/<int:pk>/panel/", views.panel_add, name="panel_add"),
    path("calls/<int:pk>/declaration/", views.panel_declare, name="declare"),
    path("calls/<int:pk>/documents/", views.document_add, name="document_add"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("questions/<int:pk>/answer/", views.clarification_answer, name="answer"),
    path("<int:pk>/", views.proposal_detail, name="proposal"),
    path("<int:pk>/<str:action>/", views.proposal_action, name="proposal_action"),
]
