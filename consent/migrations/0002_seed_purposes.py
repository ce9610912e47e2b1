"""Seed the five purposes an AI customer-service desk asks consent for."""

from django.db import migrations

from consent.seed import PURPOSES, VERSION, seed_purposes


def seed(apps, schema_editor):
    seed_purposes(
        apps.get_model("consent", "Purpose"), apps.get_model("consent", "PolicyVersion")
    )


def unseed(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    slugs = [spec["slug"] for spec in PURPOSES]
    PolicyVersion.objects.filter(purpose__slug__in=slugs, version=VERSION).delete()
    Purpose.objects.filter(slug__in=slugs, versions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
