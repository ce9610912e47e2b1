"""The OpenDSR documents, described for the OpenAPI schema.

The views read and write these bodies themselves (a receipt must carry the
exact bytes received, a signature the exact bytes sent), so these
serializers only document them: OpenDSR 2.0 §5.3, §6.3, §7.1, §7.3, §7.6,
§8.3, §9.2 (https://github.com/opengdpr/OpenDSR/blob/master/specification.md).
"""

from __future__ import annotations

from rest_framework import serializers

from connectors import opendsr_protocol as protocol
from privacydesk.apikit import OutputSerializer


class OpenDsrIdentitySerializer(OutputSerializer):
    identity_type = serializers.ChoiceField(choices=protocol.IDENTITY_TYPES)
    identity_value = serializers.CharField(max_length=200)
    identity_format = serializers.ChoiceField(choices=["raw"])


class OpenDsrSupportedIdentitySerializer(OutputSerializer):
    identity_type = serializers.ChoiceField(choices=protocol.IDENTITY_TYPES)
    identity_format = serializers.ChoiceField(choices=["raw"])


class OpenDsrDiscoverySerializer(OutputSerializer):
    api_version = serializers.CharField()
    supported_identities = OpenDsrSupportedIdentitySerializer(many=True)
    supported_subject_request_types = serializers.ListField(
        child=serializers.ChoiceField(choices=protocol.REQUEST_TYPES)
    )
    processor_certificate = serializers.URLField()


class OpenDsrRequestSerializer(OutputSerializer):
    regulation = serializers.ChoiceField(choices=protocol.REGULATIONS)
    subject_request_id = serializers.UUIDField(help_text="lowercase UUID v4")
    subject_request_type = serializers.ChoiceField(choices=protocol.REQUEST_TYPES)
    subject_identities = OpenDsrIdentitySerializer(many=True)
    submitted_time = serializers.DateTimeField(
        help_text="when the subject asked the controller: the legal clock's start"
    )
    api_version = serializers.CharField(required=False)
    status_callback_urls = serializers.ListField(
        child=serializers.URLField(), required=False, max_length=10
    )
    extensions = serializers.DictField(
        child=serializers.DictField(), required=False, help_text="accepted, ignored"
    )


class OpenDsrReceiptSerializer(OutputSerializer):
    controller_id = serializers.CharField()
    expected_completion_time = serializers.DateTimeField()
    received_time = serializers.DateTimeField()
    encoded_request = serializers.CharField(help_text="Base64 of the exact body")
    subject_request_id = serializers.UUIDField()


class OpenDsrStatusSerializer(OutputSerializer):
    controller_id = serializers.CharField()
    expected_completion_time = serializers.DateTimeField()
    subject_request_id = serializers.UUIDField()
    request_status = serializers.ChoiceField(choices=protocol.STATUSES)
    api_version = serializers.CharField()
    results_url = serializers.URLField(required=False)
    results_count = serializers.IntegerField(required=False, min_value=0)


class OpenDsrCancellationSerializer(OutputSerializer):
    controller_id = serializers.CharField()
    received_time = serializers.DateTimeField()
    subject_request_id = serializers.UUIDField()
    api_version = serializers.CharField()


class OpenDsrCallbackSerializer(OpenDsrStatusSerializer):
    status_callback_url = serializers.URLField()


class OpenDsrErrorDetailSerializer(OutputSerializer):
    domain = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()
    location = serializers.CharField(required=False, help_text="the field path")


class OpenDsrErrorBodySerializer(OutputSerializer):
    code = serializers.IntegerField()
    message = serializers.CharField()
    # The metaclass moves declared fields off the class, so the serializer's
    # `errors` property is untouched; the stubs cannot know that.
    errors = OpenDsrErrorDetailSerializer(many=True)  # type: ignore[assignment]


class OpenDsrErrorSerializer(OutputSerializer):
    error = OpenDsrErrorBodySerializer()
