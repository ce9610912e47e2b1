"""On PostgreSQL, append an event to the chain in one round trip.

`audit_append` takes the chain lock, reads the head, hashes and inserts: the
same steps `audit.services.audit_record` takes through the ORM on other
databases, but one statement from the application instead of three. The
caller sends the event's canonical JSON up to the sequence number (the last
key in sorted order); the function appends the number and the closing brace,
so the hash covers exactly what `audit.chain.event_hash` covers.

Each statement of a PL/pgSQL function takes a new snapshot (READ COMMITTED),
so the head is read after the lock is granted and sees the event that the
previous holder committed.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_append(
    p_lock bigint,
    p_genesis text,
    p_prefix text,
    p_occurred_at timestamptz,
    p_actor text,
    p_action text,
    p_object_type text,
    p_object_id text,
    p_data jsonb
) RETURNS TABLE (event_id bigint, event_sequence bigint, event_prev text,
                 event_hash text) AS $$
DECLARE
    head_sequence bigint;
    head_hash text;
    new_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT e.sequence, e.hash INTO head_sequence, head_hash
        FROM audit_auditevent e ORDER BY e.sequence DESC LIMIT 1;
    head_sequence := coalesce(head_sequence, 0) + 1;
    head_hash := coalesce(head_hash, p_genesis);
    new_hash := encode(
        sha256(convert_to(head_hash || p_prefix || head_sequence::text || '}',
                          'UTF8')),
        'hex');
    RETURN QUERY
        INSERT INTO audit_auditevent (sequence, occurred_at, actor, action,
                                      object_type, object_id, data, prev_hash, hash)
        VALUES (head_sequence, p_occurred_at, p_actor, p_action, p_object_type,
                p_object_id, p_data, head_hash, new_hash)
        RETURNING id::bigint, sequence, prev_hash::text, hash::text;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

DROP = """
DROP FUNCTION IF EXISTS audit_append(bigint, text, text, timestamptz, text, text,
                                     text, text, jsonb);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [migrations.RunPython(forwards, backwards)]
