from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agents import selectors
        from agents.tools.builtins import register_builtin_tool_types
        from agents.tools.mcp import register_mcp_tool_type
        from workspaces import registries

        register_builtin_tool_types()
        register_mcp_tool_type()
        registries.register_metric("agents", selectors.agents_count)
        registries.register_metric("agent_runs", selectors.agent_runs_count)
        registries.register_reference_kind("agent", selectors.agent_exists)
