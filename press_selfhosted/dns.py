"""DNS on the operator's PowerDNS, for `bench console` and the Press integration.

	from press_selfhosted.dns import PowerDns, DnsChecker, PlatformDns
	pdns = PowerDns("http://127.0.0.1:8081", api_key="…")
	pdns.ensure_zone("cloud.example.com", nameservers=["ns1.cloud.example.com"])
	pdns.upsert("cloud.example.com", [("acme.cloud.example.com", "A", 60, ["10.0.0.5"])])
	DnsChecker(["10.0.0.2:53"]).wait_for("acme.cloud.example.com", "A", ["10.0.0.5"], timeout=30)

	names = PlatformDns(pdns, DnsChecker(["10.0.0.2:53"]))
	names.point("acme.cloud.example.com", "n1.cloud.example.com")  # CNAME, verified
"""

from __future__ import annotations

import ipaddress

from press_selfhosted._native import DnsChecker, PowerDns
from press_selfhosted.exceptions import ZoneMissing

__all__ = ["DnsChecker", "PlatformDns", "PowerDns"]

# The kinds a name can point with; a CNAME may not coexist with the others, so pointing replaces all.
POINTERS = ("A", "AAAA", "CNAME")


class PlatformDns:
	"""The platform's names (servers, sites, their domains) kept in whichever PowerDNS zone
	holds them, each change read back from the authoritative server when a checker is given."""

	def __init__(self, pdns: PowerDns, checker: DnsChecker | None = None, *, ttl: int = 300, timeout: float = 15.0):
		self.pdns, self.checker, self.ttl, self.timeout = pdns, checker, ttl, timeout

	def zone_for(self, name: str) -> str | None:
		"""The most specific zone on PowerDNS that contains `name`, or None."""
		name = canonical(name)
		inside = [z for z in self.pdns.zones() if name == z or name.endswith("." + z)]
		return max(inside, key=len) if inside else None

	def point(self, name: str, target: str, *, wait: bool = True) -> tuple[str, str, int, list[str]]:
		"""`name` → `target`: an A/AAAA record for an address, a CNAME for a host name; read
		back unless `wait` is False (then `settled(record)` is the awaitable read-back)."""
		zone = self._zone(name)
		kind = record_kind(target)
		record = (name, kind, self.ttl, [target])
		others = [(name, k) for k in POINTERS if k != kind]
		self.pdns.delete(zone, others)
		self.pdns.upsert(zone, [record])
		if self.checker and wait:
			self.checker.wait_for(name, kind, self._answer(record), timeout=self.timeout)
		return record

	async def settled(self, record: tuple[str, str, int, list[str]]) -> None:
		"""Until the authoritative server answers `record` as `point` wrote it."""
		if self.checker:
			await self.checker.wait_for_async(record[0], record[1], self._answer(record), timeout=self.timeout)

	@staticmethod
	def _answer(record: tuple[str, str, int, list[str]]) -> list[str]:
		return [canonical(t) if record[1] == "CNAME" else t for t in record[3]]

	def remove(self, name: str) -> bool:
		"""Deletes whatever `name` points with; whether it pointed anywhere (False too when it is
		in no zone of ours)."""
		zone = self.zone_for(name)
		if not zone:
			return False
		wanted = canonical(name)
		if not any(canonical(record[0]) == wanted and record[1] in POINTERS for record in self.pdns.records(zone)):
			return False
		self.pdns.delete(zone, [(name, k) for k in POINTERS])
		if self.checker:
			self.checker.wait_for(name, "A", [], timeout=self.timeout)
		return True

	def _zone(self, name: str) -> str:
		zone = self.zone_for(name)
		if not zone:
			raise ZoneMissing(f"{name} is in no zone on PowerDNS; create its Root Domain first")
		return zone


def record_kind(target: str) -> str:
	try:
		return "AAAA" if ipaddress.ip_address(target).version == 6 else "A"
	except ValueError:
		return "CNAME"


def canonical(name: str) -> str:
	return name.strip().rstrip(".").lower() + "."
