"""A self-signed certificate, as a server on a cluster has one: made by the `cryptography` package (paramiko's
own dependency), written as PEM. Pure test helper."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(cert: Path, key: Path | None = None) -> None:
    """Write a certificate for localhost to ``cert`` and its key to ``key`` (or after the certificate in the same
    file when ``key`` is None: one file, as `ssl.SSLContext.load_cert_chain(certfile)` reads it)."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(private, hashes.SHA256())
    )
    key_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    if key is None:
        cert.write_bytes(cert_pem + key_pem)
    else:
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
