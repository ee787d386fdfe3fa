"""Background work of sessions: the hosted builds' sweep (sessions/builds.py)."""

from celery import shared_task

from sessions.builds import sweep_builds


@shared_task(acks_late=True)
def build_sweep() -> int:
    """Delete the files of every hosted build kept past OUTERLOOP_HOSTED_KEEP; how many."""
    return sweep_builds()
