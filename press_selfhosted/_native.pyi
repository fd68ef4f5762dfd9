"""Typed surface of press_selfhosted's Rust core (rust/binding).

Every call releases the GIL while the core works. Errors are raised as the classes of
press_selfhosted.exceptions: ValidationError for refused input (nothing is created),
CertificateError for everything else the CA refuses, InternalError for a bug in the core.
"""

import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Literal

KeyType = Literal["ecdsa-p256", "ecdsa-p384", "ed25519"]
FileRole = Literal["certificate", "chain", "full_chain", "private_key"]

DEFAULT_RENEWAL_DAYS: int
"""Days before expiry at which Press renews a certificate (25)."""

class CertificateAuthority:
	"""A root CA and the intermediate that signs leaves, kept in one directory (0700):
	root.crt, root.key, intermediate.crt, intermediate.key (keys 0600, PKCS#8, encrypted
	when a passphrase is given). Issuing needs only the intermediate: root.key may be moved
	offline after `create`."""

	@staticmethod
	def create(
		directory: str | os.PathLike[str],
		*,
		name: str | None = None,
		key_type: KeyType = "ecdsa-p256",
		passphrase: str | None = None,
		root_validity_days: int | None = None,
		intermediate_validity_days: int | None = None,
	) -> CertificateAuthority:
		"""Makes a new CA in `directory` (created if missing; refused if it holds a CA).
		Defaults: name "Press Self-Hosted", root 3650 days, intermediate 1825 days."""

	@staticmethod
	def load(directory: str | os.PathLike[str], *, passphrase: str | None = None) -> CertificateAuthority:
		"""Loads the CA in `directory` for issuing; the root key is not read."""

	def issue(
		self,
		names: Sequence[str],
		*,
		key_type: KeyType = "ecdsa-p256",
		validity_days: int = 90,
		not_before: datetime | None = None,
		server: bool = True,
		client: bool = False,
	) -> IssuedCertificate:
		"""Issues a leaf for DNS names (wildcard as the left-most label) and IP addresses.
		`validity_days` is 1 to 397; `not_before` (timezone-aware) defaults to now.
		`server`/`client` choose the extended key usages (TLS server, TLS client auth)."""

	@property
	def directory(self) -> Path: ...
	@property
	def root_pem(self) -> str:
		"""The trust anchor to install in clients."""

	@property
	def intermediate_pem(self) -> str: ...

class IssuedCertificate:
	"""A certificate and its private key. The key is only handed out by `private_key_pem`
	and `write_files`; it never appears in the repr."""

	@property
	def certificate_pem(self) -> str: ...
	@property
	def chain_pem(self) -> str:
		"""The intermediate(s) above the certificate; empty when self-signed."""

	@property
	def full_chain_pem(self) -> str:
		"""Certificate followed by its chain: what a TLS server presents."""

	@property
	def key_type(self) -> KeyType: ...
	def private_key_pem(self, passphrase: str | None = None) -> str:
		"""PKCS#8 PEM, encrypted (PBKDF2-SHA256, AES-256-CBC) when a passphrase is given."""

	def write_files(
		self, directory: str | os.PathLike[str], stem: str, *, passphrase: str | None = None
	) -> dict[FileRole, Path]:
		"""Writes <stem>.crt, <stem>.chain.crt, <stem>.fullchain.crt (0644) and <stem>.key
		(0600) atomically into `directory`; returns their paths by role."""

	def info(self) -> CertificateInfo: ...

class CertificateInfo:
	"""What a certificate says about itself."""

	@property
	def subject(self) -> str: ...
	@property
	def issuer(self) -> str: ...
	@property
	def serial(self) -> str:
		"""Lower-case hex."""

	@property
	def names(self) -> list[str]:
		"""DNS names and IP addresses of the subject alternative names."""

	@property
	def not_before(self) -> datetime:
		"""Timezone-aware (UTC)."""

	@property
	def not_after(self) -> datetime:
		"""Timezone-aware (UTC)."""

	@property
	def is_ca(self) -> bool: ...
	@property
	def fingerprint_sha256(self) -> str: ...
	@property
	def days_left(self) -> int:
		"""Whole days until expiry, now; negative once expired."""

	def needs_renewal(self, threshold_days: int = 25) -> bool:
		"""True when the certificate expires within `threshold_days` (or already has)."""

def inspect_certificate(pem: str) -> CertificateInfo:
	"""Reads the first certificate of a PEM text (a full chain reads as its leaf)."""

def self_signed_certificate(
	names: Sequence[str],
	*,
	key_type: KeyType = "ecdsa-p256",
	validity_days: int = 90,
	not_before: datetime | None = None,
) -> IssuedCertificate:
	"""A self-signed server certificate: the fallback when no CA is configured."""

def decrypt_private_key(pem: str, passphrase: str) -> str:
	"""The unencrypted PKCS#8 PEM of an encrypted key, for servers that cannot read
	encrypted keys."""

def domain_name(name: str, *, allow_wildcard: bool = False) -> str:
	"""The host name in canonical form (lower case, IDNA, no trailing dot), or ValidationError:
	empty or over-long labels, characters outside host names, a wildcard where none is allowed."""

LineCallback = Callable[[Literal["stdout", "stderr"], str], object]

def object_name(kind: str, slug: str) -> str:
	"""`erp-saas-cloud-c16-<kind>-<slug>`, the name of every object the platform creates."""

class Engine:
	"""A Docker or Podman engine. Calls block the calling thread, not the GIL. Errors:
	EngineUnreachable, ImageMissing, NameConflict, ContainerNotFound, PortsExhausted,
	ExecFailed, EngineTimeout, EngineError (all EngineError), ValidationError for bad input."""

	@staticmethod
	def connect(endpoint: str | None = None, *, tls: tuple[str, str, str] | None = None) -> Engine:
		"""`unix:///path.sock`, a socket path, or `tcp://host:port` with tls=(ca, certificate,
		key) files; None finds one: DOCKER_HOST, /var/run/docker.sock, /run/podman/podman.sock,
		$XDG_RUNTIME_DIR/podman/podman.sock."""

	@property
	def kind(self) -> Literal["docker", "podman"]: ...
	@property
	def version(self) -> str: ...
	@property
	def api_version(self) -> str:
		"""The API version negotiated with the engine."""

	@property
	def endpoint(self) -> str: ...
	def import_rootfs(self, tarball: str | os.PathLike[str], reference: str) -> str:
		"""Imports a rootfs tarball (streamed) as image `name:tag`; returns the image id."""

	def pull(self, reference: str, *, username: str | None = None, password: str | None = None) -> str:
		"""Pulls from the reference's registry; returns the image id. Refused or unknown:
		ImageMissing (with the registry's message)."""

	def tag(self, source: str, target: str) -> None:
		"""Gives image `source` the further name `target` (`registry:port/path:tag`)."""

	def push(
		self,
		reference: str,
		*,
		username: str | None = None,
		password: str | None = None,
		on_line: Callable[[str, str], object] | None = None,
	) -> None:
		"""Pushes to the reference's registry; `on_line("push", status)` gets each status the
		engine reports. A refusal raises EngineError."""
	def build(
		self,
		context: str | os.PathLike[str],
		tag: str,
		*,
		dockerfile: str = "Dockerfile",
		no_cache: bool = False,
		platform: str = "",
		on_line: Callable[[str, str], object] | None = None,
	) -> str:
		"""Builds the directory `context` (streamed as an archive) into image `tag` through the
		engine's build API; `on_line("build", line)` gets each line the builder prints.
		Returns the image id. A failing instruction raises BuildFailed with the builder's
		message; a Dockerfile outside the context or an unknown platform, ValidationError."""
	def image_id(self, reference: str) -> str: ...
	def list_images(self) -> list[tuple[str, list[str], int]]:
		"""`[(id, tags, size)]`"""

	def remove_image(self, reference: str, *, force: bool = False) -> None: ...
	def copy_from(self, container: str, path: str, destination: str | os.PathLike[str]) -> tuple[int, str]:
		"""Copies the regular file `path` of the container (absolute, no `..`) to `destination`
		on this host through the engine's archive API (local or remote engine alike), mode 0600,
		written beside it and renamed; returns its size and its SHA-256, hashed on the way (give
		it to `Store.upload_file(sha256=…)`). A directory is refused; a symbolic link is refused
		by Docker and followed (inside the container) by Podman, whose archive API resolves it."""
	def copy_to(self, container: str, source: str | os.PathLike[str], path: str, *, uid: int = 0, gid: int = 0) -> None:
		"""Puts the host file `source` into the container as `path` (its directory must
		exist), mode 0600, owned by uid:gid; streamed, never read into memory."""
	def ensure_network(self, name: str, *, labels: dict[str, str] | None = None) -> str:
		"""The id of network `name`, created (bridge, labelled) when missing."""

	def connect_network(self, network: str, container: str, *, aliases: Sequence[str] | None = None) -> None: ...
	def remove_network(self, name: str) -> None: ...
	def ensure_volume(self, name: str, *, labels: dict[str, str] | None = None) -> bool:
		"""Creates named volume `name` (labelled) unless it exists; whether it was created.
		An empty volume is filled from the image's content at its first mount."""

	def remove_volume(self, name: str, *, force: bool = False) -> bool:
		"""Removes the volume and its data; False when there was none. NameConflict while a
		container uses it, unless force."""

	def list_volumes(self, labels: Sequence[str] | None = None) -> list[str]:
		"""Names of the volumes carrying every label given ("key" or "key=value"), sorted."""

	def run(
		self,
		name: str,
		image: str,
		argv: Sequence[str] | None = None,
		*,
		env: dict[str, str] | None = None,
		labels: dict[str, str] | None = None,
		mounts: Sequence[tuple[str, str, bool]] | None = None,
		ports: dict[int, int] | None = None,
		memory_bytes: int | None = None,
		cpus: float | None = None,
		restart: str = "no",
		healthcheck: Sequence[str] | None = None,
		healthcheck_interval: int | None = None,
		user: str | None = None,
		workdir: str | None = None,
		init: bool = False,
		network: str | None = None,
		aliases: Sequence[str] | None = None,
	) -> str:
		"""Creates and starts a container; returns its id. `name` comes from object_name();
		`labels` must include io.press-selfhosted.kind; `ports` maps container ports to
		host ports on 127.0.0.1; `mounts` are (volume name or absolute host path, target,
		read_only); `restart` is no, always, unless-stopped or on-failure:N."""

	def start(self, container: str) -> None: ...
	def stop(self, container: str, *, timeout: int = 10) -> None: ...
	def restart(self, container: str, *, timeout: int = 10) -> None: ...
	def remove(self, container: str, *, force: bool = False) -> None: ...
	def inspect(self, container: str) -> ContainerState: ...
	def list(self, labels: Sequence[str] | None = None) -> list[ContainerState]:
		"""Containers carrying every label given ("key" or "key=value"), running or not."""

	def allocate_ports(self, count: int = 1, *, start: int = 32300, end: int = 32500) -> list[int]:
		"""Free host ports: published by no container of this engine, bound by nothing here."""

	def exec(
		self,
		container: str,
		argv: Sequence[str],
		*,
		env: dict[str, str] | None = None,
		user: str | None = None,
		workdir: str | None = None,
		timeout: float | None = None,
		on_line: LineCallback | None = None,
		check: bool = False,
	) -> ExecResult:
		"""Runs argv (no shell) in the container; on_line(stream, line) sees each line as it
		arrives. check=True raises ExecFailed on a non-zero exit; timeout raises EngineTimeout
		and, on a local engine, kills the command (the engine API cannot stop an exec)."""

	def exec_async(
		self,
		container: str,
		argv: Sequence[str],
		*,
		env: dict[str, str] | None = None,
		user: str | None = None,
		workdir: str | None = None,
		timeout: float | None = None,
		on_line: LineCallback | None = None,
		check: bool = False,
	) -> Awaitable[ExecResult]:
		"""`exec`, awaitable (asyncio); on_line is called as each line arrives."""

	def follow_logs_async(
		self, container: str, on_line: LineCallback, *, tail: int | None = None, since: int | None = None
	) -> Awaitable[None]:
		"""Follows the container's output: on_line gets the last `tail` lines, then each new one,
		until it returns False or the container stops."""

	def logs(
		self,
		container: str,
		*,
		tail: int | None = None,
		since: int | None = None,
		follow: bool = False,
		on_line: LineCallback | None = None,
	) -> list[tuple[Literal["stdout", "stderr"], str]]:
		"""The last `tail` lines since `since` (Unix seconds). With follow, on_line gets each
		new line until it returns False or the container stops (and nothing is returned)."""

	def run_healthcheck(self, container: str, *, timeout: float = 30.0) -> bool:
		"""Runs the container's healthcheck (exec form) once, now, and says whether it passed;
		works where the engine does not schedule checks itself (Podman without systemd)."""

	def stats(self, container: str) -> dict[str, float]:
		"""One sample: cpu_percent, memory_bytes, memory_limit_bytes, network_rx_bytes,
		network_tx_bytes, block_read_bytes, block_write_bytes."""

def container_metrics(
	engines: Sequence[tuple[str, str, tuple[str | os.PathLike[str], str | os.PathLike[str], str | os.PathLike[str]] | None]],
	*,
	concurrency: int = 16,
	timeout: float = 10.0,
) -> str:
	"""Every container of every (name, endpoint, tls) engine in Prometheus' text format, with
	cAdvisor's metric names and Press's labels: `name` the Press Bench (bench label), the compose
	service, or the container's name; `container`, `engine`, `kind`, `image`. Each engine is
	connected afresh and given `timeout` seconds; one that does not answer is
	`press_engine_up{engine} 0` and delays no other. Concurrency (1–256) is per engine.
	ValidationError for a bad endpoint, a missing or repeated name, or numbers out of range."""

class ContainerState:
	@property
	def id(self) -> str: ...
	@property
	def name(self) -> str: ...
	@property
	def image(self) -> str: ...
	@property
	def status(self) -> str:
		"""created, running, paused, restarting, exited, removing or dead."""

	@property
	def running(self) -> bool: ...
	@property
	def exit_code(self) -> int | None: ...
	@property
	def health(self) -> str | None: ...
	@property
	def restart_count(self) -> int: ...
	@property
	def started_at(self) -> str | None: ...
	@property
	def labels(self) -> dict[str, str]: ...
	@property
	def ports(self) -> dict[int, int | None]:
		"""{container_port: host_port} as configured (kept while stopped)."""

	@property
	def networks(self) -> dict[str, str]:
		"""{network: ip_address}"""

	@property
	def pid(self) -> int: ...

class ExecResult:
	@property
	def exit_code(self) -> int: ...
	@property
	def stdout(self) -> str: ...
	@property
	def stderr(self) -> str: ...

class CancelToken:
	"""Stops an upload between parts when cancel() is called (from any thread)."""

	def __init__(self) -> None: ...
	def cancel(self) -> None: ...
	@property
	def cancelled(self) -> bool: ...

class TenantPrefix:
	"""A tenant's part of a bucket. key() confines a relative key to it: an empty key, a
	leading '/', '.' or '..' segments, control characters or backslashes raise
	ValidationError, never a silent fix."""

	def __init__(self, prefix: str) -> None: ...
	@property
	def prefix(self) -> str:
		"""With its trailing '/'."""

	def key(self, relative: str) -> str: ...

class GrantedKey:
	"""A key that may read and write one bucket (the secret stays out of its repr)."""

	@property
	def bucket(self) -> str: ...
	@property
	def access_key(self) -> str: ...
	@property
	def secret_key(self) -> str: ...
	@property
	def created(self) -> bool:
		"""False when the key existed and was found by its name."""

class GarageAdmin:
	"""Garage's admin API (`[admin] api_bind_addr` and `admin_token`). Garage grants a key a
	whole bucket, never a prefix: a tenant that must not read its neighbours gets its own."""

	def __init__(self, url: str, token: str, *, ca_bundle: str | os.PathLike[str] | None = None) -> None: ...
	def grant(self, bucket: str, key_name: str) -> GrantedKey:
		"""A key named `key_name` that may read and write `bucket`, both made if missing;
		the key creates and owns no bucket. Granting again returns the same key."""
	def revoke(self, access_key: str) -> bool:
		"""Deletes the key with this id (a site's name may change, its key id does not);
		whether there was one. The bucket and its objects stay."""
	def key_names(self) -> list[str]:
		"""The names of every key on the store (the platform's own among them)."""

ObjectInfo = dict[Literal["key", "size", "sha256"], str | int | None]

class Store:
	"""A bucket on an S3-compatible store (Garage, MinIO, SeaweedFS, RustFS). The secret never
	appears in reprs or errors. Errors: StorageUnreachable, AccessDenied, ObjectNotFound,
	ChecksumMismatch, QuotaExceeded, TransferCancelled, StorageError; ValidationError for bad
	names."""

	def __init__(
		self,
		endpoint: str,
		bucket: str,
		*,
		access_key: str,
		secret_key: str,
		region: str = "us-east-1",
		path_style: bool = True,
		ca_bundle: str | os.PathLike[str] | None = None,
		connect_address: str | None = None,
	) -> None:
		"""ca_bundle: a PEM file of the certificates to trust instead of the public roots (the
		platform CA's root). connect_address: "ip:port" to connect to whatever DNS says of the
		endpoint's host (and of bucket.host when path_style is off); TLS still checks the name."""
	@property
	def bucket(self) -> str: ...
	def ensure_bucket(self) -> None: ...
	def put_bytes(self, key: str, data: bytes) -> None: ...
	def get_bytes(self, key: str) -> bytes: ...
	def head(self, key: str) -> ObjectInfo:
		"""sha256 is the checksum recorded at upload, or None."""

	def delete(self, key: str) -> None: ...
	def delete_keys(self, keys: Sequence[str]) -> int:
		"""Deletes each key (for example what expired_backups returned); returns how many."""

	def get_range(self, key: str, start: int, end: int | None = None) -> bytes:
		"""Bytes start..=end of the object (to its end when end is None)."""

	def begin_multipart(self, key: str) -> str:
		"""Begins a multipart upload that a client (a browser) sends itself; returns its id.
		The shape of Press's get_upload_link / multipart_exit."""

	def presign_part(self, key: str, upload_id: str, number: int, *, expires: int = 3600) -> str:
		"""A presigned PUT URL for part `number` (1 to 10,000)."""

	def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
		"""Completes it from [(part_number, etag)] as the part PUTs answered."""

	def list(self, prefix: str = "") -> list[tuple[str, int]]:
		"""[(key, size)] under prefix, every page."""

	def delete_prefix(self, prefix: str) -> int: ...
	def usage(self, prefix: str) -> tuple[int, int]:
		"""(bytes, objects) under prefix."""

	def check_quota(self, prefix: str, quota: int, adding: int) -> int:
		"""Raises QuotaExceeded when adding more bytes under prefix would pass quota; returns
		the bytes used now."""

	def presign_get(self, key: str, *, expires: int = 3600) -> str: ...
	def presign_put(self, key: str, *, expires: int = 3600) -> str: ...
	def pending_uploads(self, prefix: str = "") -> list[tuple[str, str, str]]:
		"""[(key, upload_id, initiated)] of multipart uploads neither completed nor aborted."""

	def abort_upload(self, key: str, upload_id: str) -> None: ...
	def upload_file(
		self,
		path: str | os.PathLike[str],
		key: str,
		*,
		concurrency: int = 10,
		attempts: int = 5,
		progress: Callable[[int, int], object] | None = None,
		cancel: CancelToken | None = None,
		quota: tuple[str, int] | None = None,
		sha256: str | None = None,
	) -> ObjectInfo:
		"""Streams the file up in parts (8 MiB or larger, `concurrency` in flight), each retried
		with backoff; records its SHA-256. progress(done, total) follows completed parts; an
		exception in it cancels the upload and is raised. On failure or cancel the multipart
		upload is aborted. quota=(prefix, bytes) refuses up front. sha256: the file's SHA-256
		when the caller hashed it as it was written; the upload then skips its own pass over the
		file (a wrong one makes every verified download of it fail)."""

	def download_file(
		self,
		key: str,
		path: str | os.PathLike[str],
		*,
		verify: bool = True,
		progress: Callable[[int, int], object] | None = None,
		cancel: CancelToken | None = None,
	) -> ObjectInfo:
		"""Fetches the object as ranges side by side into a file beside path, then renames it;
		with verify, a content not matching the recorded SHA-256 raises ChecksumMismatch.
		progress(done, total) follows completed ranges (an exception in it cancels); cancel
		raises TransferCancelled. A failed or cancelled download leaves no file."""

	def upload_file_async(
		self,
		path: str | os.PathLike[str],
		key: str,
		*,
		concurrency: int = 10,
		attempts: int = 5,
		progress: Callable[[int, int], object] | None = None,
		cancel: CancelToken | None = None,
		quota: tuple[str, int] | None = None,
		sha256: str | None = None,
	) -> Awaitable[ObjectInfo]:
		"""`upload_file`, awaitable (asyncio): several uploads can run from one event loop."""

	def download_file_async(
		self,
		key: str,
		path: str | os.PathLike[str],
		*,
		verify: bool = True,
		progress: Callable[[int, int], object] | None = None,
		cancel: CancelToken | None = None,
	) -> Awaitable[ObjectInfo]:
		"""`download_file`, awaitable (asyncio)."""

def expired_backups(
	backups: Sequence[tuple[str, str, datetime]],
	*,
	scheme: Literal["fifo", "gfs"] = "gfs",
	keep: int = 30,
	today: date | None = None,
) -> list[str]:
	"""Keys that Press's rotation expires on `today` from (site, key, taken_at) tuples: "fifo"
	keeps the newest `keep` per site; "gfs" keeps a week of dailies, 4 weeks of Sundays, a year
	of firsts of the month and a decade of firsts of the year (press/press/doctype/site/backups.py)."""

# (name, type, ttl, contents): type is A, AAAA, CNAME, TXT, CAA or NS; names canonical with
# the trailing dot; TXT contents quoted, CAA as 0 issue "ca.example".
RecordSetTuple = tuple[str, str, int, list[str]]

class PowerDns:
	"""The operator's PowerDNS, through its HTTP API. The API key never appears in reprs.
	Errors: DnsUnreachable, DnsAccessDenied, ZoneMissing, DnsError (PowerDNS's message);
	ValidationError for bad names or contents, before any request."""

	def __init__(self, url: str, *, api_key: str, server_id: str = "localhost") -> None: ...
	def zones(self) -> list[str]: ...
	def ensure_zone(self, zone: str, *, nameservers: Sequence[str], hostmaster: str | None = None) -> bool:
		"""Creates the zone (Native, explicit SOA with the first name server as primary) unless
		it exists; returns whether it was created."""

	def delete_zone(self, zone: str) -> None: ...
	def upsert(self, zone: str, records: Sequence[RecordSetTuple]) -> None:
		"""Replaces every record set given, in one request: all change or none. Idempotent."""

	def delete(self, zone: str, records: Sequence[tuple[str, str]]) -> None:
		"""Deletes every (name, type) given, in one request; absent ones are fine."""

	def records(self, zone: str) -> list[RecordSetTuple]: ...

class DnsChecker:
	"""Asks only the given authoritative servers ("ip:port"), without cache or recursion."""

	def __init__(self, servers: Sequence[str]) -> None: ...
	def lookup(self, name: str, kind: str) -> list[str]:
		"""The answers, sorted, in the form PowerDns.records gives; [] when there are none."""

	def wait_for(self, name: str, kind: str, contents: Sequence[str], *, timeout: float = 30.0) -> float:
		"""Seconds until the name answered exactly `contents` (empty: nothing, as after a
		delete); DnsNotPropagated after timeout."""
	def wait_for_async(self, name: str, kind: str, contents: Sequence[str], *, timeout: float = 30.0) -> Awaitable[float]:
		"""`wait_for`, awaitable (asyncio)."""

CertificatePair = tuple[str, str]
"""(full_chain_pem, private_key_pem): `(cert.full_chain_pem, cert.private_key_pem())`."""

class Route:
	"""A router as written, which `Proxy.wait_loaded` expects Traefik to serve."""

	@property
	def router(self) -> str:
		"""Traefik's full name, `<site>@file`."""

	@property
	def rule(self) -> str: ...
	@property
	def service(self) -> str: ...
	@property
	def changed(self) -> bool:
		"""False when the file already said exactly this (nothing was written)."""

class RouterStatus:
	"""A router as Traefik serves it (`GET /api/http/routers`)."""

	@property
	def name(self) -> str: ...
	@property
	def rule(self) -> str: ...
	@property
	def service(self) -> str: ...
	@property
	def status(self) -> str:
		"""`enabled`, `warning` or `disabled`."""

	@property
	def errors(self) -> list[str]: ...

def upstream_url(url: str) -> str:
	"""An upstream as the proxy writes it (`scheme://host:port`), or ValidationError: not http(s),
	credentials, a path, a query, no host or no port."""

class Proxy:
	"""Traefik's file-provider directory (`<site>.yaml` per site, `_platform.yaml`,
	certificates under `certs/`, keys 0600) and its API for the read-back. Files are written
	atomically from validated input: one broken file would make Traefik drop them all.
	Errors: ValidationError before anything is written; ProxyUnreachable, RouteDisabled
	(Traefik's error text), RouteNotLoaded, ProxyError."""

	def __init__(
		self,
		config_dir: str | os.PathLike[str],
		api_url: str,
		*,
		entry_point: str = "websecure",
		http_entry_point: str | None = "web",
	) -> None: ...
	@property
	def config_dir(self) -> Path: ...
	def write_site(
		self,
		site: str,
		upstreams: Sequence[str],
		*,
		hosts: Sequence[str] = (),
		socketio: Sequence[str] = (),
		frappe_site: str | None = None,
		certificate: CertificatePair | None = None,
		maintenance: bool = False,
	) -> list[Route]:
		"""Routes the site and its extra `hosts` to `upstreams` ("http://host:port") over
		HTTPS, with its own certificate or (None) the platform's wildcard; `/socket.io` goes
		to the `socketio` upstreams when given (a second router, `<site>_socketio`).
		`frappe_site` is sent as X-Frappe-Site-Name, as Press's nginx does (a custom domain
		names the site it belongs to).
		`maintenance` (deactivated or suspended) sends it to the platform's maintenance page
		instead. Returns the site's routers, the main one first, for wait_loaded."""

	def write_platform(
		self,
		*,
		wildcard: CertificatePair | None = None,
		maintenance_url: str | None = None,
		default_url: str | None = None,
	) -> list[Route]:
		"""The platform's routes: the wildcard (Traefik's default certificate), the
		maintenance service, a catch-all for unknown hosts, and HTTP→HTTPS redirects."""

	def write_monitor(self, host: str, *, prometheus_url: str, alertmanager_url: str, users: list[str]) -> list[Route]:
		"""The monitor server's routes (`_monitor.yaml`, 0600): `https://<host>/prometheus` and
		`/alertmanager` to those upstreams, the prefix stripped, behind basic auth; `users` are
		htpasswd lines (`user:hash`, bcrypt, apr1 or {SHA}). Left alone when unchanged."""

	def remove_monitor(self) -> bool:
		"""Removes the monitor server's routes; False if there were none."""

	def remove_site(self, site: str) -> bool:
		"""Removes the site's file, then its certificate; False if it had none."""

	def has_maintenance_page(self) -> bool:
		"""Whether the platform's file defines the maintenance page; without it a site in
		maintenance stays routed to its bench (which answers 503 in its maintenance mode)."""

	def sites(self) -> list[str]: ...
	def routers(self) -> list[RouterStatus]: ...
	def wait_loaded(self, routes: Sequence[Route], *, timeout: float = 15.0) -> list[RouterStatus]:
		"""Waits until Traefik serves every route as written and enabled."""
	def wait_loaded_async(self, routes: Sequence[Route], *, timeout: float = 15.0) -> Awaitable[list[RouterStatus]]:
		"""`wait_loaded`, awaitable (asyncio)."""

	def wait_gone(self, routers: Sequence[str], *, timeout: float = 15.0) -> None:
		"""Waits until Traefik no longer serves these routers (`<site>@file`)."""
