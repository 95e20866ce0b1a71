"""The emulator's certificates are issued as a real CA issues them (Python 3.13's strict X.509)."""

from __future__ import annotations

import socket
import ssl

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from entra_auth.testing import Emulator
from entra_auth.testing.certs import CertificateAuthority


def _strict_context(cafile: str) -> ssl.SSLContext:
    # 3.13's create_default_context() sets VERIFY_X509_STRICT; set it on every version
    # so 3.10-3.12 check the same thing.
    context = ssl.create_default_context(cafile=cafile)
    context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def test_ca_and_server_certificates_carry_the_rfc5280_extensions() -> None:
    ca = CertificateAuthority()
    ca_cert = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    server_pem, _ = ca.issue_server_certificate(["127.0.0.1", "localhost"])
    server = x509.load_pem_x509_certificate(server_pem.encode())

    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_usage = ca_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign

    aki = server.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    server.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = server.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    client = ca.issue_client_certificate("app.contoso.com")
    client_cert = x509.load_pem_x509_certificate(client.certificate_pem.encode())
    eku = client_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_strict_tls_verification_accepts_the_emulator(entra_emulator: Emulator) -> None:
    assert entra_emulator.ca_bundle is not None
    context = _strict_context(entra_emulator.ca_bundle)
    with socket.create_connection(("127.0.0.1", entra_emulator.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET /common/v2.0/.well-known/openid-configuration HTTP/1.1\r\n"
                    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert tls.recv(12).startswith(b"HTTP/1.1 200")


def test_default_context_of_this_python_accepts_the_emulator(entra_emulator: Emulator) -> None:
    assert entra_emulator.ca_bundle is not None
    context = ssl.create_default_context(cafile=entra_emulator.ca_bundle)
    with socket.create_connection(("127.0.0.1", entra_emulator.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() is not None
