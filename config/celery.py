"""The Celery application: Django settings under the CELERY_ prefix, tasks found in the apps.

Database connections: Celery's Django fixup closes every connection before and after each task unless
CELERY_DB_REUSE_MAX is set, which costs a new PostgreSQL connection (several milliseconds) on the path of
every scan's dispatch. The settings turn that off, and Django's own rule applies at task boundaries instead,
as it does at request boundaries: a connection older than CONN_MAX_AGE or broken is closed, and the next query
checks the connection first (CONN_HEALTH_CHECKS), so a restarted PostgreSQL costs one reconnect, not a task.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("lantern", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_checked(**kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()
