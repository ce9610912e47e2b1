"""Example payloads of the OpenDSR specification, used as fixtures.

Copied verbatim from https://github.com/opengdpr/OpenDSR (master, commit
6c080e2), Copyright 2018 mParticle, Inc., licensed under the Apache License
2.0 (LICENSE.md there): `specification.md` §6.4, §7.2, §7.7, §8.4, §8.7 and
the README's "Sample Request Object". The §7.2 example is not valid JSON (a
trailing comma in `extensions`) and lacks the REQUIRED `regulation`; the
README sample is valid.
"""

# specification.md §7.2 (Example OpenDSR Request), verbatim.
SPEC_7_2_REQUEST = b"""{
  "subject_request_id": "a7551968-d5d6-44b2-9831-815ac9017798",
  "subject_request_type": "erasure",
  "submitted_time": "2018-10-02T15:00:00Z",
  "subject_identities": [
    {
      "identity_type": "email",
      "identity_value": "johndoe@example.com",
      "identity_format": "raw"
    }
  ],
  "api_version": "2.0",
  "status_callback_urls": [
    "https://examplecontroller.com/opendsr/callbacks"
  ],
  "extensions": {
    "example-processor.com": {
      "foo-processor-custom-id":123456,
      "property_id": "123456",
    },
    "example-other-processor.com": {
      "foo-other-processor-custom-id":654321
    }
  }
}"""

# README.md "Sample Request Object", verbatim.
README_SAMPLE_REQUEST = b"""{
 "subject_request_id":"a7551968-d5d6-44b2-9831-815ac9017798",
 "regulation": "gdpr",
 "subject_request_type":"erasure",
 "submitted_time":"2018-10-02T15:00:00Z",
 "subject_identities":[
   {
      "identity_type":"email",
      "identity_value":"johndoe@example.com",
      "identity_format":"raw"
   }
 ],
 "api_version":"2.0",
 "status_callback_urls":[
   "https://example-controller.com/opendsr/callbacks"
 ]
}"""

# specification.md §6.4 (Example Discovery Response), verbatim.
SPEC_6_4_DISCOVERY = b"""{
   "api_version":"2.0",
   "supported_identities":[
      {
         "identity_type":"email",
         "identity_format":"raw"
      },
      {
         "identity_type":"email",
         "identity_format":"sha256"
      }
   ],
   "supported_subject_request_types":[
      "erasure"
   ],
   "processor_certificate":"https://exampleprocessor.com/cert.pem"
}"""

# specification.md §7.7 (Example OpenDSR Error Response), verbatim.
SPEC_7_7_ERROR = b"""{
  "error": {
    "code": 400,
    "message": "subject_request_id field is required",
    "errors": [
      {
        "domain": "Validation",
        "reason": "IllegalArgumentException",
        "message": "subject_request_id field is required."
      }
    ]
  }
}"""

# specification.md §8.4 (Example Status Response), verbatim.
SPEC_8_4_STATUS = b"""{
    "controller_id":"example_controller_id",
    "expected_completion_time":"2018-11-01T15:00:01Z",
    "subject_request_id":"a7551968-d5d6-44b2-9831-815ac9017798",
    "request_status":"pending",
    "api_version":"2.0",
    "results_url":"https://exampleprocessor.com/secure/d188d4ba-12db-48a0-898c-cd0f8ba7b345",
    "results_count":103
}"""

# specification.md §8.7 (Callback Request Example), body verbatim.
SPEC_8_7_CALLBACK = b"""{
    "controller_id":"example_controller_id",
    "expected_completion_time":"2018-11-01T15:00:01Z",
    "status_callback_url":"https://examplecontroller.com/opendsr/callbacks",
    "subject_request_id":"a7551968-d5d6-44b2-9831-815ac9017798",
    "request_status":"pending",
    "results_url":"https://exampleprocessor.com/secure/d188d4ba-12db-48a0-898c-cd0f8ba7b345",
    "results_count":340
}"""
