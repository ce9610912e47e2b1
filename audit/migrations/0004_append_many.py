"""On PostgreSQL, append several events to the chain in one round trip.

`audit_append_many` replaces `audit_append` (0003): the same steps (take the
chain lock, read the head, hash, insert) for a list of events in the order
given, each linked to the one before. A transaction that records several
events (a request verified, started and fanned out) sends them together at
its end, so it holds the chain lock only from there to its commit.

Arrays in, one element per event; the caller sends each event's canonical
JSON up to the sequence number (see `audit.chain.canonical_prefix`).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_append_many(
    p_lock bigint,
    p_genesis text,
    p_prefixes text[],
    p_occurred_at timestamptz[],
    p_actors text[],
    p_actions text[],
    p_object_types text[],
    p_object_ids text[],
    p_data jsonb[]
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
    head_sequence := coalesce(head_sequence, 0);
    head_hash := coalesce(head_hash, p_genesis);
    FOR i IN 1 .. coalesce(array_length(p_prefixes, 1), 0) LOOP
        head_sequence := head_sequence + 1;
        new_hash := encode(
            sha256(convert_to(
                head_hash || p_prefixes[i] || head_sequence::text || '}', 'UTF8')),
            'hex');
        RETURN QUERY
            INSERT INTO audit_auditevent (sequence, occurred_at, actor, action,
                                          object_type, object_id, data,
                                          prev_hash, hash)
            VALUES (head_sequence, p_occurred_at[i], p_actors[i], p_actions[i],
                    p_object_types[i], p_object_ids[i], p_data[i], head_hash,
                    new_hash)
            RETURNING id::bigint, sequence, prev_hash::text, hash::text;
        head_hash := new_hash;
    END LOOP;
END;
$$ LANGUAGE plpgsql VOLATILE;
DROP FUNCTION IF EXISTS audit_append(bigint, text, text, timestamptz, text, text,
                                     text, text, jsonb);
"""

DROP = """
DROP FUNCTION IF EXISTS audit_append_many(bigint, text, text[], timestamptz[],
                                          text[], text[], text[], text[], jsonb[]);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        single = import_module("audit.migrations.0003_append_function")
        schema_editor.execute(single.CREATE, params=None)
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_function")]

    operations = [migrations.RunPython(forwards, backwards)]
