"""Keeping webhook requests off the service's own network: private, loopback and metadata
addresses are refused unless allowed, at submission and on every connection (no DNS rebinding)."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

from practicegen.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeWebhookUrl(InvalidRequest):
    code = "webhook_url_not_allowed"
    default_message = "The webhook URL points at an address this service may not call."


class AddressGuard:
    def __init__(self, allowlist: Iterable[str]) -> None:
        self.hosts: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowlist:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))

    def _forbidden(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return (
            address in _METADATA
            or address.is_loopback
            or address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
            or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
        )

    def check(self, host: str, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%", maxsplit=1)[0])
        if host.lower().rstrip(".") in self.hosts or any(ip in n for n in self.networks):
            return
        if self._forbidden(ip):
            raise UnsafeWebhookUrl(host=host, address=str(ip))

    async def resolve(self, host: str, port: int) -> list[str]:
        """The host's addresses, every one of them allowed, or UnsafeWebhookUrl."""
        try:
            infos = await anyio.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UnsafeWebhookUrl("The webhook URL's host does not resolve.", host=host) from exc
        addresses = [str(info[4][0]) for info in infos]
        for address in addresses:
            self.check(host, address)
        return addresses

    async def check_url(self, url: str) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise UnsafeWebhookUrl("A webhook URL is an absolute http(s) URL.", url=url)
        await self.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))

    @functools.cached_property
    def _ssl_context(self) -> ssl.SSLContext:
        # loading the CA bundle takes tens of milliseconds: once per guard, not per delivery
        return httpx.create_ssl_context()

    def transport(self) -> httpx.AsyncHTTPTransport:
        """An httpx transport whose every connection goes to an address this guard allowed."""
        transport = httpx.AsyncHTTPTransport(verify=self._ssl_context)
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl_context, network_backend=_GuardedBackend(self)
        )
        return transport


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        """To the first of the host's addresses, each of which the guard allowed."""
        addresses = await self.guard.resolve(host, port)
        return await self.inner.connect_tcp(addresses[0], port, *args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
