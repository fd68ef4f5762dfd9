"""Sites made by the local executor on one bench, on the real services tools/bench.sh starts:
the time of each infrastructure step (database user, `bench new-site`, certificate, Traefik
route read back, PowerDNS record read back), the bench container's memory per site, and the
latency of `/api/method/ping` and `/login` under a light wrk load, through Traefik and, for
comparison, straight to the bench's web port (what a client of the bench's own nginx would
see). The stand-in bench image by default; `--image REF` runs a real Frappe bench image.

	make bench
	python benches/sites.py --sites 10 [--image localhost/press-bench-frappe:v15] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import report, run_worker  # noqa: E402

STANDIN = "erp-saas-cloud-c16-bench/bench-standin:1"
# wrk prints the 95th percentile of latency (µs) and the request count as JSON at the end.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('{"p95_us": %d, "p50_us": %d, "requests": %d, "errors": %d}\\n',
    latency:percentile(95), latency:percentile(50), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
"""


def wrk(url: str, host: str, seconds: int, script: Path) -> dict:
	"""2 connections, 1 thread: a light load, as the issue asks (seed SC-004)."""
	out = subprocess.run(["wrk", "-t1", "-c2", f"-d{seconds}s", "-H", f"Host: {host}", "-s", str(script), url],
		capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
	return json.loads(out.strip().splitlines()[-1])


def sites_worker(count: int, image: str | None, seconds: int) -> None:
	from press_selfhosted.dns import DnsChecker, PlatformDns, PowerDns
	from press_selfhosted.engine import Engine, object_name
	from press_selfhosted.exceptions import ImageMissing
	from press_selfhosted.executor.bench import container_name, ports
	from press_selfhosted.executor.local import Flow, remove_database, run_database
	from press_selfhosted.executor.platform import Platform
	from press_selfhosted.pki import CertificateAuthority
	from press_selfhosted.proxy import Proxy

	env = os.environ
	engine = Engine.connect(env["PRESS_SELFHOSTED_TEST_PODMAN"])
	try:
		engine.image_id(STANDIN)
	except ImageMissing:
		engine.import_rootfs(env["PRESS_SELFHOSTED_TEST_BENCH_IMAGE"], STANDIN)
	tag = f"bench{os.getpid()}"
	zone, bench, network, db = f"{tag}.test", tag, object_name("net", tag), object_name("db", tag)
	password = secrets.token_urlsafe(18)
	database = run_database(engine, STANDIN, name=db, network=network, password=password, port=engine.allocate_ports(1)[0])
	pdns = PowerDns(env["PRESS_SELFHOSTED_TEST_PDNS_API"], api_key=Path(env["PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE"]).read_text().strip())
	pdns.ensure_zone(zone, nameservers=[f"ns1.{zone}"])
	with tempfile.TemporaryDirectory() as scratch:
		ca = CertificateAuthority.create(Path(scratch) / "ca")

		def certificate(site):
			issued = ca.issue([site])
			return issued.full_chain_pem, issued.private_key_pem()

		platform = Platform(engine=engine, database=database,
			proxy=Proxy(env["PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"], env["PRESS_SELFHOSTED_TEST_TRAEFIK_API"]),
			dns=PlatformDns(pdns, DnsChecker([env["PRESS_SELFHOSTED_TEST_PDNS_DNS"]]), ttl=60), address="127.0.0.1",
			network=network, site_certificate=certificate, timeout=300, owner=tag)
		flow = Flow(platform, root_password=password, bench_of=lambda site: bench)
		flow.bench(bench, image or STANDIN, gunicorn_workers=2, background_workers=1)
		name = container_name(platform, bench)
		time.sleep(5)
		memory_before = engine.stats(name)["memory_bytes"]
		sites, parts = [f"s{i:02d}.{zone}" for i in range(count)], []
		for site in sites:
			made, routed = flow.site(bench, site)
			new_site = made.steps[0]
			command = new_site.data["seconds"]["bench new-site"]
			route_parts = routed.steps[0].data["seconds"]
			parts.append({"database": (new_site.end - new_site.start).total_seconds() - command, "bench new-site": command,
				"rest of New Site": (made.end - made.start).total_seconds() - (new_site.end - new_site.start).total_seconds(),
				**route_parts})
		time.sleep(5)
		memory_after = engine.stats(name)["memory_bytes"]
		https = env["PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS"].rsplit(":", 1)[1]
		web = ports(engine.inspect(name)).web
		script = Path(scratch) / "p95.lua"
		script.write_text(WRK_SCRIPT)
		latency = {}
		for path in ("/api/method/ping", "/login"):
			latency[f"traefik {path}"] = wrk(f"https://127.0.0.1:{https}{path}", sites[0], seconds, script)
			latency[f"direct {path}"] = wrk(f"http://127.0.0.1:{web}{path}", sites[0], seconds, script)
		for site in sites:
			flow.remove_site(bench, site)
		flow.remove_bench(bench)
	remove_database(engine, db)
	engine.remove_network(network)
	pdns.delete_zone(zone)
	means = {part: statistics.mean(p[part] for p in parts) for part in parts[0]}
	report(**{f"step {k}": v for k, v in means.items()}, memory_per_site=(memory_after - memory_before) / count,
		memory_bench=memory_before, **{f"{k} {m}": v for k, r in latency.items() for m, v in r.items()})


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--sites", type=int, default=10)
	parser.add_argument("--image", help="a real bench image on the engine (default: the stand-in)")
	parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per URL")
	parser.add_argument("--worker", action="store_true")
	args = parser.parse_args()
	if args.worker:
		sites_worker(args.sites, args.image, args.seconds)
		return 0
	extra = ["--image", args.image] if args.image else []
	r = run_worker(__file__, "--sites", str(args.sites), "--seconds", str(args.seconds), *extra)
	print(f"{args.sites} sites on one bench ({args.image or 'the stand-in bench image'}), one at a time")
	print("  mean per site (ms): " + ", ".join(f"{k[5:]} {v * 1000:.1f}" for k, v in r.items() if k.startswith("step ")))
	infra = sum(v for k, v in r.items() if k.startswith("step ") and k not in ("step bench new-site", "step rest of New Site"))
	print(f"  infrastructure steps (database, certificate, route, dns): {infra:.2f} s per site")
	print(f"  bench container memory: {r['memory_bench'] / 2**20:.0f} MiB with no site, "
		f"{r['memory_per_site'] / 2**20:.1f} MiB more per site; benchmark peak RSS {r['peak_kib'] / 1024:.0f} MiB")
	for key in ("/api/method/ping", "/login"):
		t, d = (f"traefik {key}", f"direct {key}")
		print(f"  {key}: p95 {r[t + ' p95_us'] / 1000:.1f} ms through Traefik (HTTPS), {r[d + ' p95_us'] / 1000:.1f} ms "
			f"straight to the bench (HTTP); p50 {r[t + ' p50_us'] / 1000:.1f} / {r[d + ' p50_us'] / 1000:.1f} ms; "
			f"{r[t + ' requests']:.0f} / {r[d + ' requests']:.0f} requests, errors {r[t + ' errors']:.0f} / {r[d + ' errors']:.0f}")
	return 0


if __name__ == "__main__":
	sys.exit(main())
