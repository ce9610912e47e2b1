"""OpenDSR: the vocabulary and signatures both sides of Privacy Desk speak.

Privacy Desk is an OpenDSR processor (the `opendsr` app serves controllers)
and an OpenDSR controller (the `opendsr` connector kind forwards requests to
processors). The names, the identity hashing and the RSA signatures they
share live here, in the connectors layer, so both can import them.

Facts from the specification, OpenDSR 2.0 (Apache-2.0),
https://github.com/opengdpr/OpenDSR/blob/master/specification.md :
- §5.1/5.2 identity types and formats; §6.2 request types; §8 statuses.
- §7.3/7.4, §8.3, §8.6, §9.2: responses and callbacks carry
  `X-OpenDSR-Processor-Domain` and `X-OpenDSR-Signature`, "Base64 encoded
  signature of the SHA 256 digest of the body". §4.2 names FIPS 186-4 only;
  the scheme used in practice is RSA PKCS#1 v1.5 with SHA-256 over the raw
  bytes (mParticle's "SHA256 RSA", https://docs.mparticle.com/developers/dsr-api/v3/).
- §10.1: the OpenGDPR 1.0 names MUST still be honoured: routes
  `/opengdpr_requests` and headers `X-OpenGDPR-*` (branch `opengdpr_v1`,
  OpenGDPR_specification.md).
- security_guidelines.md: a controller verifies the raw body before parsing
  and answers 202, 401 (domain not allowed, bad certificate) or 400 (bad
  signature, not JSON).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

API_VERSION = "2.0"

REQUEST_TYPES = ("access", "portability", "erasure")
REGULATIONS = ("gdpr", "ccpa")
IDENTITY_TYPES = (
    "controller_customer_id",
    "android_advertising_id",
    "android_id",
    "email",
    "fire_advertising_id",
    "ios_advertising_id",
    "ios_vendor_id",
    "microsoft_advertising_id",
    "microsoft_publisher_id",
    "roku_publisher_id",
    "roku_advertising_id",
)
IDENTITY_FORMATS = ("raw", "sha1", "md5", "sha256")

PENDING = "pending"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUSES = (PENDING, IN_PROGRESS, COMPLETED, CANCELLED)
CLOSED = (COMPLETED, CANCELLED)

DOMAIN_HEADER = "X-OpenDSR-Processor-Domain"
SIGNATURE_HEADER = "X-OpenDSR-Signature"
# OpenGDPR 1.0's names of the same headers (§10.1).
LEGACY_DOMAIN_HEADER = "X-OpenGDPR-Processor-Domain"
LEGACY_SIGNATURE_HEADER = "X-OpenGDPR-Signature"


class SignatureInvalid(Exception):
    """A signature that does not verify, or no signature at all."""


def signature_create(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """The Base64 signature of `body` (RSA PKCS#1 v1.5, SHA-256)."""
    raw = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def signature_verify(
    certificate: x509.Certificate, body: bytes, signature: str
) -> None:
    """Check `signature` over the raw `body` with the certificate's RSA key;
    raise SignatureInvalid if it does not hold."""
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureInvalid("the certificate's key is not an RSA key")
    try:
        raw = base64.b64decode("".join(signature.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the signature is not Base64") from None
    try:
        public_key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureInvalid("the signature does not match the body") from None


def signed_headers(*, domain: str, signature: str) -> dict[str, str]:
    """The headers of a signed body, under both the 2.0 and the 1.0 names."""
    return {
        DOMAIN_HEADER: domain,
        SIGNATURE_HEADER: signature,
        LEGACY_DOMAIN_HEADER: domain,
        LEGACY_SIGNATURE_HEADER: signature,
    }


def header_get(headers: Mapping[str, str], name: str, legacy: str) -> str:
    """A header by its OpenDSR name, else by its OpenGDPR one ("" if absent).
    `headers` is case-insensitive (Django's request.headers, http.client's)."""
    return headers.get(name) or headers.get(legacy) or ""


def certificate_load(pem: bytes | str) -> x509.Certificate:
    """A PEM certificate; ValueError when it is not one."""
    data = pem.encode() if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificate(data)


def identity_hash(value: str, identity_format: str) -> str:
    """An identity value in a §5.2 format. The specification does not say
    how to normalise before hashing; e-mail addresses are hashed trimmed
    and lower-cased (what a controller holding them mixed-case can match),
    other identifiers as given. Hex digests, lower case."""
    if identity_format == "raw":
        return value
    if identity_format not in IDENTITY_FORMATS:
        raise ValueError(f"unknown identity format {identity_format!r}")
    return hashlib.new(identity_format, value.encode()).hexdigest()


def email_normalise(value: str) -> str:
    return value.strip().lower()
