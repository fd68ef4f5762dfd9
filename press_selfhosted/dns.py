"""DNS on the operator's PowerDNS, for `bench console` and the Press integration.

	from press_selfhosted.dns import PowerDns, DnsChecker
	pdns = PowerDns("http://127.0.0.1:8081", api_key="…")
	pdns.ensure_zone("cloud.example.com", nameservers=["ns1.cloud.example.com"])
	pdns.upsert("cloud.example.com", [("acme.cloud.example.com", "A", 60, ["10.0.0.5"])])
	DnsChecker(["10.0.0.2:53"]).wait_for("acme.cloud.example.com", "A", ["10.0.0.5"], timeout=30)
"""

from press_selfhosted._native import DnsChecker, PowerDns

__all__ = ["DnsChecker", "PowerDns"]
