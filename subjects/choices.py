from django.db import models


class IdentifierKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    CUSTOMER_ID = "customer_id", "Customer id"
