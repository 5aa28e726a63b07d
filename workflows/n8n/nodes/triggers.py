"""Mappers of n8n trigger nodes: manual, called by another workflow, webhook, form, chat and schedules."""

from typing import Any

from workflows.n8n.expressions import (
    Shape,
    Untranslatable,
)
from workflows.n8n.nodes.base import (
    MapContext,
    Mapped,
)


def map_manual_trigger(context: MapContext) -> Mapped:
    return Mapped("trigger.manual", {})


def map_called_by_workflow(context: MapContext) -> Mapped:
    return Mapped("trigger.manual", {}).approximate(
        "Runs when started by the API or a sub_workflow node; its input is the caller's input."
    )


def map_webhook(context: MapContext) -> Mapped:
    mapped = Mapped("trigger.webhook", {}, shape=Shape("webhook"))
    method = context.get("httpMethod", "GET")
    mapped.notes.append(
        f"Athena's webhook has its own URL (`webhook_url`) and accepts every method; n8n's path "
        f"'{context.get('path', '')}' and method {method} are not kept."
    )
    response_mode = context.get("responseMode", "onReceived")
    if response_mode == "lastNode":
        mapped.approximate(
            "n8n answered with the last node's data; Athena answers 202 unless a respond_to_webhook node answers."
        )
    if context.get("authentication", "none") != "none":
        mapped.approximate("n8n's webhook authentication is not kept; set a webhook secret to require signatures.")
    return mapped


def map_form_or_chat_trigger(context: MapContext) -> Mapped:
    return Mapped("trigger.webhook", {}).approximate(
        "Imported as a webhook trigger: send the form or chat input as the JSON body of the webhook."
    )


_WEEKDAYS = range(7)


def _schedule_cron(rule: dict[str, Any]) -> tuple[str, list[str]]:
    """Return the cron expression of one n8n Schedule Trigger interval rule and any approximation notes."""
    kind = rule.get("field", "days")
    minute = int(rule.get("triggerAtMinute", 0) or 0)
    hour = int(rule.get("triggerAtHour", 0) or 0)
    if kind == "cronExpression":
        expression = str(rule.get("expression", "")).strip()
        parts = expression.split()
        if len(parts) == 6:
            return " ".join(parts[1:]), ["n8n's seconds field was dropped; Athena schedules by the minute."]
        return expression, []
    if kind == "seconds":
        return "* * * * *", ["n8n ran every few seconds; Athena runs at most once a minute."]
    if kind == "minutes":
        interval = int(rule.get("minutesInterval", 5) or 5)
        return f"*/{interval} * * * *", []
    if kind == "hours":
        interval = int(rule.get("hoursInterval", 1) or 1)
        return (f"{minute} * * * *" if interval == 1 else f"{minute} */{interval} * * *"), []
    if kind == "days":
        interval = int(rule.get("daysInterval", 1) or 1)
        return (f"{minute} {hour} * * *" if interval == 1 else f"{minute} {hour} */{interval} * *"), []
    if kind == "weeks":
        days = rule.get("triggerAtDay") or [0]
        days = [int(day) for day in days if str(day).isdigit() and int(day) in _WEEKDAYS] or [0]
        notes = []
        if int(rule.get("weeksInterval", 1) or 1) != 1:
            notes.append("n8n skipped weeks between runs; Athena runs every week.")
        return f"{minute} {hour} * * {','.join(str(day) for day in days)}", notes
    if kind == "months":
        interval = int(rule.get("monthsInterval", 1) or 1)
        day = int(rule.get("triggerAtDayOfMonth", 1) or 1)
        return (f"{minute} {hour} {day} * *" if interval == 1 else f"{minute} {hour} {day} */{interval} *"), []
    raise Untranslatable(f"The schedule interval '{kind}' has no cron equivalent.")


def map_schedule_trigger(context: MapContext) -> Mapped:
    rule_set = context.get("rule") or {}
    rules = rule_set.get("interval") if isinstance(rule_set, dict) else None
    rules = rules if isinstance(rules, list) and rules else [{}]
    try:
        cron, notes = _schedule_cron(rules[0] if isinstance(rules[0], dict) else {})
    except (TypeError, ValueError):
        raise Untranslatable("The schedule rule has values that are not numbers.") from None
    mapped = Mapped("trigger.schedule", {"cron": cron, "timezone": context.timezone})
    for note in notes:
        mapped.approximate(note)
    if len(rules) > 1:
        mapped.approximate("Only the first of n8n's schedule rules was kept; Athena has one cron per workflow.")
    return mapped


def map_cron(context: MapContext) -> Mapped:
    times = (context.get("triggerTimes") or {}).get("item") or [{"mode": "everyDay"}]
    first = times[0] if isinstance(times[0], dict) else {}
    mode = first.get("mode", "everyDay")
    minute, hour = int(first.get("minute", 0) or 0), int(first.get("hour", 14) or 0)
    crons = {
        "everyMinute": "* * * * *",
        "everyHour": f"{minute} * * * *",
        "everyDay": f"{minute} {hour} * * *",
        "everyWeek": f"{minute} {hour} * * {first.get('weekday', 1)}",
        "everyMonth": f"{minute} {hour} {first.get('dayOfMonth', 1)} * *",
        "custom": str(first.get("cronExpression", "")),
    }
    if mode not in crons:
        raise Untranslatable(f"The cron mode '{mode}' is not translated.")
    cron = crons[mode]
    mapped = Mapped("trigger.schedule", {"cron": cron, "timezone": context.timezone})
    if mode == "custom" and len(cron.split()) == 6:
        mapped.parameters["cron"] = " ".join(cron.split()[1:])
        mapped.approximate("n8n's seconds field was dropped; Athena schedules by the minute.")
    if len(times) > 1:
        mapped.approximate("Only the first of n8n's trigger times was kept.")
    return mapped
