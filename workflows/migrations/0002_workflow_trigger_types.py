from django.db import migrations, models

TRIGGER_TYPES = ("trigger.manual", "trigger.webhook", "trigger.schedule")


def fill_trigger_types(apps, schema_editor):
    # A copy of models.trigger_types_of: migrations must not import code that may change later.
    Workflow = apps.get_model("workflows", "Workflow")
    for workflow in Workflow.objects.only("pk", "nodes").iterator():
        present = [kind for kind in TRIGGER_TYPES if any(node.get("type") == kind for node in workflow.nodes or [])]
        value = f",{','.join(present)}," if present else ""
        Workflow.objects.filter(pk=workflow.pk).update(trigger_types=value)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="trigger_types",
            field=models.CharField(blank=True, default="", editable=False, max_length=200),
        ),
        migrations.RunPython(fill_trigger_types, migrations.RunPython.noop),
    ]
