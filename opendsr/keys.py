"""The key that signs our OpenDSR answers and callbacks, and its certificate.

Production names both files (OPENDSR_SIGNING_KEY_FILE,
OPENDSR_CERTIFICATE_FILE): the certificate must be CA-issued for the
processor domain (spec §4.1, security_guidelines.md). Embedded mode makes
an RSA key and a self-signed certificate for that domain under the var dir
on first use, written whole or not at all, so a web process and a worker
starting together end up with the same pair.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from connectors.opendsr_protocol import certificate_load, signature_create

_lock = threading.Lock()


@dataclass(frozen=True)
class SigningIdentity:
    """Our processor domain, its private key and certificate (PEM)."""

    domain: str
    key: rsa.RSAPrivateKey
    certificate_pem: bytes

    def sign(self, body: bytes) -> str:
        return signature_create(self.key, body)

    @property
    def certificate(self) -> x509.Certificate:
        return certificate_load(self.certificate_pem)


def processor_domain() -> str:
    configured: str = settings.OPENDSR_PROCESSOR_DOMAIN
    return configured or urlsplit(settings.SITE_URL).hostname or "localhost"


@lru_cache(maxsize=1)
def signing_identity() -> SigningIdentity:
    """Loaded once per process (the files do not change while it runs)."""
    key_file: str = settings.OPENDSR_SIGNING_KEY_FILE
    cert_file: str = settings.OPENDSR_CERTIFICATE_FILE
    domain = processor_domain()
    if key_file or cert_file:
        if not (key_file and cert_file):
            raise ImproperlyConfigured(
                "set both OPENDSR_SIGNING_KEY_FILE and OPENDSR_CERTIFICATE_FILE"
            )
        return _load(Path(key_file), Path(cert_file), domain)
    if not settings.EMBEDDED:
        raise ImproperlyConfigured(
            "OpenDSR needs OPENDSR_SIGNING_KEY_FILE and OPENDSR_CERTIFICATE_FILE "
            "when PRIVACYDESK_EMBEDDED=false"
        )
    # One pair per domain: a certificate names its domain (its SAN).
    folder = Path(settings.VAR_DIR) / "opendsr" / "signing" / domain
    key_path, cert_path = folder / "signing-key.pem", folder / "certificate.pem"
    with _lock:
        if not key_path.exists():
            _generate(key_path, cert_path, domain)
    return _load(key_path, cert_path, domain)


def _load(key_path: Path, cert_path: Path, domain: str) -> SigningIdentity:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured("the OpenDSR signing key must be an RSA key")
    pem = cert_path.read_bytes()
    try:
        certificate = certificate_load(pem)
    except ValueError as error:
        raise ImproperlyConfigured("the OpenDSR certificate is not PEM") from error
    public_key = certificate.public_key()
    if (
        not isinstance(public_key, rsa.RSAPublicKey)
        or public_key.public_numbers() != key.public_key().public_numbers()
    ):
        raise ImproperlyConfigured("the OpenDSR certificate is not for its key")
    return SigningIdentity(domain=domain, key=key, certificate_pem=pem)


def _generate(key_path: Path, cert_path: Path, domain: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    # Both files in a folder of our own, then the folder renamed into place:
    # a rename onto a folder another process created first fails, and we
    # keep theirs, so the key and certificate always belong together.
    final = key_path.parent
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.{os.getpid()}.{threading.get_ident()}")
    staging.mkdir(mode=0o700)
    _write(staging / key_path.name, key_pem, mode=0o600)
    _write(staging / cert_path.name, cert_pem, mode=0o644)
    try:
        os.rename(staging, final)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _write(path: Path, data: bytes, *, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
