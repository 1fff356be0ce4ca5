"""Who may associate: calling AE titles, client addresses, and TLS (with client certificates).

Calling and called AE titles are checked by pynetdicom itself (`require_calling_aet`,
`require_called_aet`); client addresses are checked here, in the EVT_REQUESTED handler,
before any negotiation. TLS uses pynetdicom's own `ssl_context` support.
"""
from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass

from ..config import AccessConfig, TlsConfig
from ..errors import ScannerError


class AccessConfigError(ScannerError, ValueError):
    """A TLS or access setting that cannot be used; the message starts with the key."""


@dataclass(frozen=True)
class AddressPolicy:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_config(cls, access: AccessConfig) -> "AddressPolicy":
        return cls(tuple(ipaddress.ip_network(a, strict=False) for a in access.client_addresses))

    def allows(self, address: str) -> bool:
        """True when no list is configured or the address is inside one of its networks."""
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.networks)


def server_ssl_context(tls: TlsConfig) -> ssl.SSLContext | None:
    """The server-side TLS context, or None when TLS is off. Errors name the file."""
    if not tls.enabled:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.certificate, tls.private_key)
    except (OSError, ssl.SSLError) as exc:
        raise AccessConfigError(f"tls.certificate/tls.private_key: cannot load {tls.certificate} / "
                         f"{tls.private_key}: {exc}") from exc
    if tls.ca_certificates:
        try:
            context.load_verify_locations(cafile=tls.ca_certificates)
        except (OSError, ssl.SSLError) as exc:
            raise AccessConfigError(f"tls.ca_certificates: cannot load {tls.ca_certificates}: {exc}") from exc
        context.verify_mode = ssl.CERT_REQUIRED if tls.require_client_certificate else ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context
