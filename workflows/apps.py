from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workflows import nodes, selectors, tools  # noqa: F401 (nodes registers the built-in node types)
        from workspaces import registries

        tools.register()

        registries.register_metric("workflows", selectors.workflows_count)
        registries.register_metric("workflow_executions", selectors.executions_count)
        registries.register_reference_kind("workflow", selectors.workflow_exists)
        registries.register_reference_kind("workflow_execution", selectors.execution_exists)
