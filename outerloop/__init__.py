"""Outer Loop: the project (settings, URLs, Celery app) and the habit itself.

The Celery app lives in `outerloop.celery`; Django loads it in `OuterloopConfig.ready()` and
`celery --app outerloop` finds it there, so `outerloop.cli` can run without Django or Celery.
"""
