"""Steward: the Django project package (settings, URLs, API root, Celery app)."""

from steward.celery import app as celery_app

__all__ = ["celery_app"]
