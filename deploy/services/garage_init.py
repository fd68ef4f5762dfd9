"""The stack's Garage, made usable once: a one-node layout, the platform's access key (from
.env) allowed to create buckets, and the platform's bucket. Each step looks first, so running
it again changes nothing. Talks to Garage's admin API (v2) from the host, secrets from the
environment only (never a command line). Standard library only.

	GARAGE_ADMIN_URL=http://127.0.0.1:32393 GARAGE_ADMIN_TOKEN=… GARAGE_ACCESS_KEY=GK… \\
		GARAGE_SECRET_KEY=… S3_BUCKET=platform python3 garage_init.py
"""

import json
import os
import sys
import urllib.error
import urllib.request

CAPACITY = int(os.environ.get("GARAGE_CAPACITY_GB") or "100") * 10**9


def call(endpoint: str, body: dict | None = None, missing_ok: bool = False):
	request = urllib.request.Request(f"{os.environ['GARAGE_ADMIN_URL'].rstrip('/')}/v2/{endpoint}",
		data=None if body is None else json.dumps(body).encode(), method="GET" if body is None else "POST",
		headers={"Authorization": f"Bearer {os.environ['GARAGE_ADMIN_TOKEN']}", "Content-Type": "application/json"})
	try:
		with urllib.request.urlopen(request, timeout=30) as response:
			text = response.read()
	except urllib.error.HTTPError as e:
		if missing_ok and e.code in (400, 404):
			return None
		raise SystemExit(f"garage: {endpoint} answered {e.code}: {e.read().decode(errors='replace')[:300]}") from None
	return json.loads(text) if text else {}


def main() -> list[str]:
	done = []
	layout = call("GetClusterLayout")
	if not layout.get("roles"):
		node = call("GetClusterStatus")["nodes"][0]["id"]
		call("UpdateClusterLayout", {"roles": [{"id": node, "zone": "dc1", "capacity": CAPACITY, "tags": []}]})
		call("ApplyClusterLayout", {"version": layout["version"] + 1})
		done.append(f"layout: node {node[:16]} in zone dc1, {CAPACITY // 10**9} GB")
	key = os.environ["GARAGE_ACCESS_KEY"]
	if call(f"GetKeyInfo?id={key}", missing_ok=True) is None:
		call("ImportKey", {"accessKeyId": key, "secretAccessKey": os.environ["GARAGE_SECRET_KEY"], "name": "platform"})
		call(f"UpdateKey?id={key}", {"allow": {"createBucket": True}})
		done.append(f"key {key}: imported, may create buckets")
	bucket = os.environ["S3_BUCKET"]
	info = call(f"GetBucketInfo?globalAlias={bucket}", missing_ok=True)
	if info is None:
		info = call("CreateBucket", {"globalAlias": bucket})
		done.append(f"bucket {bucket}: created")
	if not any(k.get("accessKeyId") == key for k in info.get("keys", [])):
		call("AllowBucketKey", {"bucketId": info["id"], "accessKeyId": key, "permissions": {"read": True, "write": True, "owner": True}})
		done.append(f"bucket {bucket}: key {key} may read, write and own it")
	return done


if __name__ == "__main__":
	for line in main():
		print(f"garage: {line}")
	sys.exit(0)
