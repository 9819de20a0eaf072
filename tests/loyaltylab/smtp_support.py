"""A real SMTP server for the mail tests: aiosmtpd with STARTTLS or implicit TLS, password
sign-in, and a certificate made for the test (the client trusts it through SSL_CERT_FILE)."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loyaltylab.cli_support import free_port

USER = "mailer"
PASSWORD = "s3cret pass/word"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Delivery:
    message: Message
    encrypted: bool
    """Whether the connection was TLS when the message was handed over."""
    user: str | None


@dataclass
class RecordingHandler:
    """Keeps what it receives; answers the first messages with the refusals queued in it."""

    refusals: list[str] = field(default_factory=list)
    received: list[Delivery] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            self.refused += 1
            return self.refusals.pop(0)
        self.received.append(
            Delivery(
                message=message_from_bytes(envelope.content),
                encrypted=server.transport.get_extra_info("ssl_object") is not None,
                user=session.auth_data.login.decode() if session.authenticated else None,
            )
        )
        return "250 Message accepted"


def _check_password(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, auth_data=auth_data)


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def start_server(
    handler: RecordingHandler,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
) -> Controller:
    """A running server on a free port of 127.0.0.1; ``controller.port``, ``.stop()``.

    With ``starttls`` the server offers STARTTLS and requires it before anything else (AUTH
    included); with ``implicit_tls`` it speaks TLS from the first byte (smtps).
    """
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=implicit_tls,
        server_hostname="localhost",
        tls_context=starttls,
        require_starttls=starttls is not None,
        authenticator=_check_password,
        # aiosmtpd counts only STARTTLS as TLS for AUTH; an smtps connection is TLS throughout.
        auth_require_tls=implicit_tls is None,
    )
    controller.start()
    return controller
