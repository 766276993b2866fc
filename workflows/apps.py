from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "CivicFlow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The outbox finds its delivery functions by kind: register them in every process
        # (web, worker, commands) before anything is delivered; the installation's checks too.
        from workflows import citizens, notices, system_checks  # noqa: F401

        # A citizen's account never joins a group (a role), whoever tries (workflows/citizens.py).
        citizens.connect_signals()
