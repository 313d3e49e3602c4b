"""Create the audit chain's single head row, so that appends only ever lock it (never race to create it)."""

from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    AuditEvent = apps.get_model("core", "AuditEvent")
    if AuditChainHead.objects.filter(id=1).exists():
        return
    last = AuditEvent.objects.order_by("-seq").first()
    AuditChainHead.objects.create(
        id=1,
        last_seq=last.seq if last else 0,
        last_hash=last.hash if last else GENESIS_HASH,
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
