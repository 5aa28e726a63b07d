from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "threads"
    verbose_name = "Threads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from athena_site.metrics import register_source
        from threads import metrics, selectors
        from workspaces import registries

        registries.register_metric("threads", selectors.threads_count)
        registries.register_metric("messages", selectors.messages_count)
        registries.register_reference_kind("thread", selectors.thread_exists)
        register_source(metrics.THREADS)
        register_source(metrics.MESSAGES)
