"""Upload and download one large file (1 GiB by default) to the same Garage, three ways, in
one run:

- press_selfhosted: `Store.upload_file` (8 MiB parts, 10 in flight; its SHA-256 is computed
  first and stored as metadata) and `Store.download_file` (streamed, checksum verified);
- boto3: `upload_file` / `download_file` with its default TransferConfig (8 MiB parts, 10
  threads): what Press uses;
- aws CLI: `aws s3 cp` up and down.

Each contender runs in its own process; peak RSS is that process's (with its children's).
The downloaded file is compared with the original (SHA-256) for every contender. Rounds
rotate who goes first and flush dirty pages before each contender; figures are medians.
CPU seconds are counted for the contender and for Garage, which shares the two cores. Needs the
Garage that tools/bench.sh starts:

	make bench
	python benches/storage.py --mib 256
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import WorkerFailed, report, run_worker  # noqa: E402

CONTENDERS = ("press_selfhosted", "boto3", "aws-cli")
BUCKET = "bench"


def credentials() -> dict:
	folder = Path(os.environ["PRESS_SELFHOSTED_TEST_S3_DIR"])
	return {
		"endpoint": os.environ["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"],
		"region": os.environ["PRESS_SELFHOSTED_TEST_S3_REGION"],
		"access_key": (folder / "access_key").read_text(),
		"secret_key": (folder / "secret_key").read_text(),
	}


def ours(c: dict, source: Path, key: str, target: Path) -> tuple[float, float]:
	from press_selfhosted.storage import Store

	store = Store(c["endpoint"], BUCKET, access_key=c["access_key"], secret_key=c["secret_key"], region=c["region"])
	started = time.perf_counter()
	store.upload_file(source, key)
	uploaded = time.perf_counter()
	store.download_file(key, target)
	return uploaded - started, time.perf_counter() - uploaded


def boto3_(c: dict, source: Path, key: str, target: Path) -> tuple[float, float]:
	import boto3

	client = boto3.client("s3", endpoint_url=c["endpoint"], region_name=c["region"],
		aws_access_key_id=c["access_key"], aws_secret_access_key=c["secret_key"])
	started = time.perf_counter()
	client.upload_file(str(source), BUCKET, key)
	uploaded = time.perf_counter()
	client.download_file(BUCKET, key, str(target))
	return uploaded - started, time.perf_counter() - uploaded


def aws_cli(c: dict, source: Path, key: str, target: Path) -> tuple[float, float]:
	env = {**os.environ, "AWS_ACCESS_KEY_ID": c["access_key"], "AWS_SECRET_ACCESS_KEY": c["secret_key"],
		"AWS_DEFAULT_REGION": c["region"]}
	aws = [str(Path(sys.executable).parent / "aws"), "--endpoint-url", c["endpoint"], "s3", "cp", "--only-show-errors"]
	started = time.perf_counter()
	subprocess.run([*aws, str(source), f"s3://{BUCKET}/{key}"], check=True, env=env)
	uploaded = time.perf_counter()
	subprocess.run([*aws, f"s3://{BUCKET}/{key}", str(target)], check=True, env=env)
	return uploaded - started, time.perf_counter() - uploaded


def cpu_seconds(pid: int | None = None) -> float:
	"""CPU time of process `pid` (of this process and its waited-for children when None)."""
	if pid is None:
		t = os.times()
		return t.user + t.system + t.children_user + t.children_system
	fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def garage_pid() -> int:
	"""The Garage serving the benchmark: the process whose command line names its config."""
	config = str(Path(os.environ["PRESS_SELFHOSTED_TEST_S3_DIR"]) / "garage.toml")
	for proc in Path("/proc").iterdir():
		try:
			if proc.name.isdigit() and config in (proc / "cmdline").read_bytes().decode(errors="replace"):
				return int(proc.name)
		except OSError:
			continue
	raise RuntimeError(f"no Garage process runs with {config}")


def worker(name: str, source: Path, target: Path) -> None:
	"""Times the upload and the download apart, with the CPU each cost here and in Garage."""
	run = {"press_selfhosted": ours, "boto3": boto3_, "aws-cli": aws_cli}[name]
	garage = garage_pid()
	before = (cpu_seconds(), cpu_seconds(garage))
	up, down = run(credentials(), source, f"{name}/{source.name}", target)
	after = (cpu_seconds(), cpu_seconds(garage))
	report(up=up, down=down, client_cpu=after[0] - before[0], garage_cpu=after[1] - before[1])


def sha256(path: Path) -> str:
	digest = hashlib.sha256()
	with open(path, "rb") as f:
		while block := f.read(1 << 20):
			digest.update(block)
	return digest.hexdigest()


def median(values: list[float]) -> float:
	return sorted(values)[len(values) // 2]


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--mib", type=int, default=1024)
	parser.add_argument("--rounds", type=int, default=3)
	parser.add_argument("--worker", choices=CONTENDERS)
	parser.add_argument("--source", type=Path)
	parser.add_argument("--target", type=Path)
	args = parser.parse_args()
	if args.worker:
		worker(args.worker, args.source, args.target)
		return 0

	from press_selfhosted.storage import Store

	c = credentials()
	Store(c["endpoint"], BUCKET, access_key=c["access_key"], secret_key=c["secret_key"], region=c["region"]).ensure_bucket()
	runs: dict[str, list[dict]] = {name: [] for name in CONTENDERS}
	with tempfile.TemporaryDirectory(prefix="press-selfhosted-bench-") as tmp:
		source = Path(tmp) / "backup.bin"
		with open(source, "wb") as f:
			for _ in range(args.mib):
				f.write(os.urandom(1 << 20))
		expected = sha256(source)
		for round_ in range(args.rounds):
			# Each contender goes first once, and starts with no dirty pages left by another.
			order = CONTENDERS[round_ % len(CONTENDERS):] + CONTENDERS[:round_ % len(CONTENDERS)]
			for name in order:
				target = Path(tmp) / f"{name}.bin"
				os.sync()
				result = run_worker(__file__, name, "--source", str(source), "--target", str(target))
				result["identical"] = sha256(target) == expected
				runs[name].append(result)
				target.unlink()

	results = {
		name: {
			"up": median([r["up"] for r in rs]),
			"down": median([r["down"] for r in rs]),
			"client_cpu": median([r["client_cpu"] for r in rs]),
			"garage_cpu": median([r["garage_cpu"] for r in rs]),
			"peak_kib": max(r["peak_kib"] for r in rs),
			"identical": all(r["identical"] for r in rs),
		}
		for name, rs in runs.items()
	}
	ours_up, ours_down = results["press_selfhosted"]["up"], results["press_selfhosted"]["down"]
	gib = args.mib / 1024
	print(f"Upload and download {args.mib} MiB to Garage on loopback, {os.cpu_count()} cores, median of {args.rounds} rounds")
	print()
	print("| contender | upload MiB/s | download MiB/s | press_selfhosted is × faster (up / down) "
		"| CPU s/GiB, client | CPU s/GiB, Garage | peak RSS (MiB) | identical |")
	print("|---|---:|---:|---:|---:|---:|---:|---|")
	for name, r in results.items():
		print(f"| {name} | {args.mib / r['up']:.0f} | {args.mib / r['down']:.0f} | {r['up'] / ours_up:.2f} / {r['down'] / ours_down:.2f} | "
			f"{r['client_cpu'] / gib:.2f} | {r['garage_cpu'] / gib:.2f} | {r['peak_kib'] / 1024:.1f} | {'yes' if r['identical'] else 'NO'} |")
	return 0 if all(r["identical"] for r in results.values()) else 1


if __name__ == "__main__":
	try:
		sys.exit(main())
	except WorkerFailed as failed:
		sys.exit(str(failed))
