"""Provision 50 tenants (the infrastructure part: container, DNS record verified on PowerDNS,
certificate, Traefik route verified through its API, storage prefix) on the real services
that tools/bench.sh starts, and tear them down; then write 50 DNS records one API call each
against one batched call. Each round runs in its own process, so peak RSS is that round's.

	make bench
	python benches/tenants.py --tenants 50 --rounds 3 --concurrency 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import report, run_worker  # noqa: E402


def platform(workdir: Path, zone: str):
	from press_selfhosted.demo import DEMO_IMAGE
	from press_selfhosted.dns import DnsChecker, PowerDns
	from press_selfhosted.engine import Engine
	from press_selfhosted.exceptions import ImageMissing
	from press_selfhosted.pki import CertificateAuthority
	from press_selfhosted.proxy import Proxy
	from press_selfhosted.storage import Store
	from press_selfhosted.tenants import Platform

	env = os.environ
	engine = Engine.connect(env["PRESS_SELFHOSTED_TEST_PODMAN"])
	try:
		engine.image_id(DEMO_IMAGE)
	except ImageMissing:
		engine.import_rootfs(env["PRESS_SELFHOSTED_TEST_ROOTFS"], DEMO_IMAGE)
	dns = PowerDns(env["PRESS_SELFHOSTED_TEST_PDNS_API"], api_key=Path(env["PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE"]).read_text().strip())
	dns.ensure_zone(zone, nameservers=[f"ns1.{zone}"])
	s3 = Path(env["PRESS_SELFHOSTED_TEST_S3_DIR"])
	store = Store(env["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"], "bench-tenants", region=env["PRESS_SELFHOSTED_TEST_S3_REGION"],
		access_key=(s3 / "access_key").read_text(), secret_key=(s3 / "secret_key").read_text())
	store.ensure_bucket()
	return Platform(engine=engine, image=DEMO_IMAGE, dns=dns, checker=DnsChecker([env["PRESS_SELFHOSTED_TEST_PDNS_DNS"]]),
		zone=zone, address="127.0.0.1", ca=CertificateAuthority.create(workdir / "ca"),
		proxy=Proxy(env["PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"], env["PRESS_SELFHOSTED_TEST_TRAEFIK_API"]),
		store=store, data_dir=workdir)


def tenants_worker(count: int, concurrency: int) -> None:
	from press_selfhosted.demo import provision_all, teardown
	from press_selfhosted.tenants import STEPS

	with tempfile.TemporaryDirectory() as workdir:
		zone = f"bench-{os.getpid()}.test"
		p = platform(Path(workdir), zone)
		names = [f"b{i:02d}" for i in range(count)]
		started = time.perf_counter()
		reports, failures = provision_all(p, names, concurrency, quiet=True)
		total = time.perf_counter() - started
		if failures or len(reports) != count:
			raise SystemExit(f"{len(failures)} tenants failed: {failures[:1]}")
		started = time.perf_counter()
		teardown(p, names, concurrency)
		down = time.perf_counter() - started
		p.dns.delete_zone(zone)
		steps = {f"step_{s}": statistics.mean(r.timings[s] for r in reports) for s in STEPS}
		report(total=total, teardown=down, **steps)


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
	parser.add_argument("--tenants", type=int, default=50)
	parser.add_argument("--rounds", type=int, default=3)
	parser.add_argument("--concurrency", type=int, default=8)
	parser.add_argument("--worker", choices=["tenants", "dns"])
	args = parser.parse_args()
	if args.worker == "tenants":
		tenants_worker(args.tenants, args.concurrency)
		return 0
	if args.worker == "dns":
		dns_worker(args.tenants)
		return 0

	rounds = [run_worker(__file__, "tenants", "--tenants", str(args.tenants), "--concurrency", str(args.concurrency))
		for _ in range(args.rounds)]
	median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
	print(f"{args.tenants} tenants, {args.concurrency} at a time, {args.rounds} rounds (median; all: "
		+ ", ".join(f"{r['total']:.1f}" for r in rounds) + " s)")
	print(f"  provisioned in {median['total']:.1f} s ({args.tenants / median['total']:.1f} tenants/s), "
		f"torn down in {median['teardown']:.1f} s, peak RSS {median['peak_kib'] / 1024:.0f} MiB")
	print("  mean per tenant and step (ms): " + ", ".join(
		f"{key[5:]} {median[key] * 1000:.0f}" for key in median if key.startswith("step_")))
	dns = [run_worker(__file__, "dns", "--tenants", str(args.tenants)) for _ in range(args.rounds)]
	d = {key: statistics.median(r[key] for r in dns) for key in dns[0]}
	print(f"{args.tenants} DNS records: one call each {d['one_call_each'] * 1000:.0f} ms, one batched call "
		f"{d['batched'] * 1000:.0f} ms ({d['one_call_each'] / d['batched']:.1f}× faster); verified on PowerDNS in "
		f"{d['one_call_each_verify'] * 1000:.0f} / {d['batched_verify'] * 1000:.0f} ms; peak RSS {d['peak_kib'] / 1024:.0f} MiB")
	return 0


if __name__ == "__main__":
	sys.exit(main())
