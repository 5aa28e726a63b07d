"""Browser pages of the workflows app: workflows and their canvas editor, and executions."""
