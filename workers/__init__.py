"""Celery workers: ``celery -A workers worker`` and ``celery -A workers beat``."""

from workers.celery_app import celery_app

celery = celery_app
__all__ = ["celery", "celery_app"]
