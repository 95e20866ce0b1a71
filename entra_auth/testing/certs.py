"""X.509 material for the emulator: a local CA, its TLS server certificate, client certificates.

RFC 5280 certificates built with ``cryptography``; thumbprints as Entra shows them
(hex SHA-1 / SHA-256 of the DER encoding). Imported lazily: ``cryptography`` is heavy.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "CertificateAuthority",
    "ClientCertificate",
    "certificate_der",
    "generate_client_certificate",
    "generate_rsa_key",
    "thumbprints",
]


def generate_rsa_key() -> RSAPrivateKey:
    """Return a new 2048-bit RSA private key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: RSAPrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _cert_pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_der(certificate_pem: str) -> bytes:
    """Return the DER bytes of the first certificate in a PEM string.

    Raises:
        ValueError: The text holds no parseable certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return cert.public_bytes(serialization.Encoding.DER)


def _load_pem(certificate_pem: str) -> x509.Certificate:
    from cryptography import x509

    return x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))


def thumbprints(certificate_pem: str) -> tuple[str, str]:
    """Return the (SHA-1, SHA-256) thumbprints of a PEM certificate, as uppercase hex."""
    der = certificate_der(certificate_pem)
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()  # noqa: S324


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _build(
    subject: str,
    issuer_name: str,
    public_key: Any,
    signing_key: RSAPrivateKey,
    *,
    ca: bool,
    days: int,
    sans: list[x509.GeneralName] | None = None,
    usage: str = "client",
) -> x509.Certificate:
    """Sign a certificate as a real CA issues one (RFC 5280 profile).

    Every certificate carries Subject and Authority Key Identifiers, basic constraints and key
    usage; leaves also carry an extended key usage (``usage``: ``"server"`` or ``"client"``).
    Python 3.13's default TLS context verifies with ``VERIFY_X509_STRICT``, which rejects a
    chain without them ("Missing Authority Key Identifier").
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=not ca,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                crl_sign=ca, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        purpose = (ExtendedKeyUsageOID.SERVER_AUTH if usage == "server"
                   else ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = builder.add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate and its private key, for a confidential client's assertions.

    Attributes:
        private_key_pem: PKCS#8 PEM private key.
        certificate_pem: PEM certificate (register it on the app).
        thumbprint_sha1: Uppercase hex SHA-1 thumbprint (``x5t``).
        thumbprint_sha256: Uppercase hex SHA-256 thumbprint (``x5t#S256``).
        subject: The subject name, e.g. ``CN=app.contoso.com``.
        chain_pem: The certificate followed by its issuer's, when issued by a CA.
    """

    private_key_pem: str
    certificate_pem: str
    thumbprint_sha1: str
    thumbprint_sha256: str
    subject: str
    chain_pem: str = ""

    def msal_credential(self, *, sha256: bool = False, send_x5c: bool = False) -> dict[str, str]:
        """Return a ``client_credential`` dict for ``msal.ConfidentialClientApplication``.

        MSAL 1.39 picks the header from the dict's keys: ``thumbprint`` gives RS256 + ``x5t``
        (SHA-1); ``public_certificate`` without ``thumbprint`` gives PS256 + ``x5t#S256`` and
        always adds ``x5c``. For SHA-256 without ``x5c`` use :meth:`write_pfx`.

        Args:
            sha256: Let MSAL identify the certificate by SHA-256 thumbprint (implies x5c).
            send_x5c: Also send the certificate chain (subject name/issuer authentication).
        """
        credential = {"private_key": self.private_key_pem}
        if not sha256:
            credential["thumbprint"] = self.thumbprint_sha1
        if sha256 or send_x5c:
            credential["public_certificate"] = self.chain_pem or self.certificate_pem
        return credential

    def write_pfx(self, path: str) -> dict[str, str]:
        """Write an unencrypted PKCS#12 file; return msal's ``client_credential`` for it
        (``private_key_pfx_path``: PS256 + ``x5t#S256``, no ``x5c``)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        key = serialization.load_pem_private_key(self.private_key_pem.encode(), None)
        cert = _load_pem(self.certificate_pem)
        data = pkcs12.serialize_key_and_certificates(
            b"entra-auth test", key, cert, None,  # type: ignore[arg-type]
            serialization.NoEncryption())
        with open(path, "wb") as fh:
            fh.write(data)
        return {"private_key_pfx_path": path}

    def __repr__(self) -> str:
        return f"ClientCertificate(subject={self.subject!r}, sha1={self.thumbprint_sha1})"


def _client_certificate(
    key: RSAPrivateKey, cert: x509.Certificate, subject: str, chain_pem: str
) -> ClientCertificate:
    pem = _cert_pem(cert)
    sha1, sha256 = thumbprints(pem)
    return ClientCertificate(_key_pem(key), pem, sha1, sha256, f"CN={subject}", chain_pem)


def generate_client_certificate(common_name: str = "entra-auth test client") -> ClientCertificate:
    """Return a new self-signed client certificate (register its PEM on an app).

    Args:
        common_name: The subject's CN.
    """
    key = generate_rsa_key()
    cert = _build(common_name, common_name, key.public_key(), key, ca=False, days=365)
    return _client_certificate(key, cert, common_name, "")


class CertificateAuthority:
    """A throwaway CA that issues the emulator's TLS certificate and client certificates."""

    def __init__(self, common_name: str = "entra-auth emulator CA") -> None:
        self.common_name = common_name
        self._key = generate_rsa_key()
        self._cert = _build(
            common_name, common_name, self._key.public_key(), self._key, ca=True, days=30
        )
        self.certificate_pem = _cert_pem(self._cert)

    def issue_server_certificate(self, hosts: list[str]) -> tuple[str, str]:
        """Return (certificate PEM, key PEM) for a TLS server with these DNS names/IPs as SANs."""
        from cryptography import x509

        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        key = generate_rsa_key()
        cert = _build(hosts[0], self.common_name, key.public_key(), self._key,
                      ca=False, days=30, sans=sans, usage="server")
        return _cert_pem(cert), _key_pem(key)

    def issue_client_certificate(self, common_name: str) -> ClientCertificate:
        """Return a client certificate issued by this CA (for subject name/issuer auth)."""
        key = generate_rsa_key()
        cert = _build(common_name, self.common_name, key.public_key(), self._key,
                      ca=False, days=30)
        return _client_certificate(
            key, cert, common_name, _cert_pem(cert) + self.certificate_pem
        )

    def issued(self, leaf_der: bytes) -> bool:
        """Whether a DER certificate carries a valid signature from this CA."""
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            leaf = x509.load_der_x509_certificate(leaf_der)
            if leaf.issuer != self._cert.subject or leaf.signature_hash_algorithm is None:
                return False
            self._key.public_key().verify(
                leaf.signature, leaf.tbs_certificate_bytes, padding.PKCS1v15(),
                leaf.signature_hash_algorithm,
            )
        except Exception:  # any parse or signature failure means "not ours"
            return False
        return True


def x5c_entry(certificate_pem: str) -> str:
    """Return the standard-base64 DER of a certificate, as in a JWK's ``x5c``."""
    return base64.b64encode(certificate_der(certificate_pem)).decode("ascii")
