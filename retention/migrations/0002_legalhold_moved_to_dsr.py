# LegalHold moves to dsr (issue 11: erasure honours holds, and dsr may not
# import retention). Its table keeps the name retention_legalhold; this
# removes the model from retention's state only. dsr's 0005 takes it over
# and renames its content type.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('retention', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name='LegalHold',
                ),
            ],
        ),
    ]
