"""Privacy pages (added to ``customers.urls``, so they share the ``customers:`` namespace)."""

from django.urls import path

from customers import views_consent as views
from customers import views_disclosures

urlpatterns = [
    path("consent/", views.privacy_home, name="privacy"),
    path("consent/policy/", views.policy_set, name="policy_set"),
    path("consent/purposes/", views.purpose_add, name="purpose_add"),
    path("consent/statements/new/", views.statement_edit, name="statement_create"),
    path("consent/statements/<int:pk>/", views.statement_detail, name="statement"),
    path("consent/statements/<int:pk>/edit/", views.statement_edit, name="statement_edit"),
    path("consent/statements/<int:pk>/publish/", views.statement_publish, name="statement_publish"),
    path("consent/statements/<int:pk>/forms/new/", views.form_add, name="form_add"),
    path("consent/opt-outs/", views.opt_outs, name="opt_outs"),
    path("consent/notices/<int:pk>/send/", views.notice_send, name="notice_send"),
    path("consent/notices/<int:pk>/letter.pdf", views.notice_letter, name="notice_letter"),
    path("consent/access-log/", views.access_report, name="access_log"),
    path("consent/access-alerts/", views.access_alerts, name="access_alerts"),
    path("consent/access-alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("consent/processors/", views.processor_list, name="processors"),
    path("consent/disclosures/", views_disclosures.exchange_list, name="exchanges"),
    path("consent/disclosures/<int:pk>/", views_disclosures.exchange_detail, name="exchange"),
    path("consent/processors/<int:pk>/", views.processor_detail, name="processor"),
    path("marketing/", views.marketing_page, name="marketing"),
    path("<int:pk>/privacy/", views.customer_privacy, name="customer_privacy"),
    path("<int:pk>/privacy/reveal/", views.customer_reveal, name="customer_reveal"),
    path("<int:pk>/privacy/consents/", views.customer_consent, name="customer_consent"),
    path(
        "<int:pk>/privacy/consents/<int:entry_pk>/withdraw/",
        views.customer_withdraw,
        name="customer_withdraw",
    ),
    path("<int:pk>/privacy/opt-outs/", views.customer_opt_out, name="customer_opt_out"),
    path("<int:pk>/privacy/call-opt-out/", views.customer_phone_opt_out, name="customer_phone_opt_out"),
    path("<int:pk>/privacy/s35d/", views.customer_transitional, name="customer_transitional"),
    path("<int:pk>/privacy/collections/", views.customer_collection, name="customer_collection"),
]
