from django.db import models


class ExclusionReason(models.TextChoices):
    CONSENT_WITHDRAWN = "consent_withdrawn", "Withdrew consent to model training"
    OBJECTION = "objection", "Objected to processing (Art. 21)"
    ERASURE = "erasure", "Asked for erasure"


class ExclusionSource(models.TextChoices):
    REQUEST = "request", "A data-subject request"
    CONSENT_EVENT = "consent_event", "A consent withdrawal"


class EntryAction(models.TextChoices):
    EXCLUDED = "excluded", "Excluded"
    LIFTED = "lifted", "Lifted (consent granted again)"


class KeyKind(models.TextChoices):
    """What a pipeline filters its rows by."""

    BLIND_INDEX = "blind_index", "Export blind index of an e-mail or phone"
    CONVERSATION_ID = "conversation_id", "Conversation id"
