"""50 A records into one zone on PowerDNS, one API call each (what Press does with Route53)
against one batched call, each then verified against the server with hickory. Each round in
its own process.

	make bench
	python benches/dns.py --records 50 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import report, run_worker  # noqa: E402


def dns_worker(count: int) -> None:
	from press_selfhosted.dns import DnsChecker, PowerDns

	env = os.environ
	dns = PowerDns(env["PRESS_SELFHOSTED_TEST_PDNS_API"], api_key=Path(env["PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE"]).read_text().strip())
	checker = DnsChecker([env["PRESS_SELFHOSTED_TEST_PDNS_DNS"]])
	figures = {}
	for mode in ("one_call_each", "batched"):
		zone = f"dns-{mode.replace('_', '-')}-{os.getpid()}.test"
		dns.ensure_zone(zone, nameservers=[f"ns1.{zone}"])
		records = [(f"s{i:02d}.{zone}", "A", 60, [f"10.0.{i // 250}.{i % 250 + 1}"]) for i in range(count)]
		started = time.perf_counter()
		if mode == "batched":
			dns.upsert(zone, records)
		else:
			for record in records:
				dns.upsert(zone, [record])
		figures[mode] = time.perf_counter() - started
		started = time.perf_counter()
		for name, kind, _, contents in records:
			checker.wait_for(name, kind, contents, timeout=10)
		figures[f"{mode}_verify"] = time.perf_counter() - started
		dns.delete_zone(zone)
	report(**figures)


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--records", type=int, default=50)
	parser.add_argument("--rounds", type=int, default=3)
	parser.add_argument("--worker", action="store_true")
	args = parser.parse_args()
	if args.worker:
		dns_worker(args.records)
		return 0
	rounds = [run_worker(__file__, "--records", str(args.records)) for _ in range(args.rounds)]
	d = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
	print(f"{args.records} DNS records: one call each {d['one_call_each'] * 1000:.0f} ms, one batched call "
		f"{d['batched'] * 1000:.0f} ms ({d['one_call_each'] / d['batched']:.1f}× faster); verified on PowerDNS in "
		f"{d['one_call_each_verify'] * 1000:.0f} / {d['batched_verify'] * 1000:.0f} ms; peak RSS {d['peak_kib'] / 1024:.0f} MiB")
	return 0


if __name__ == "__main__":
	sys.exit(main())
