"""Exceptions raised by press_selfhosted.

Defined in Python so Frappe code can catch them without loading the native core; the core's
errors are mapped onto these classes in one place (rust/binding/src/errors.rs).
"""


class SelfHostedError(Exception):
	"""Base class of every error press_selfhosted raises."""


class ValidationError(SelfHostedError, ValueError):
	"""Input was refused before anything was done (a name, domain, key or path)."""


class CertificateError(SelfHostedError):
	"""The certificate authority could not load, issue, read or decrypt something."""


class InternalError(SelfHostedError):
	"""A bug in the native core (a Rust panic), caught before it reached the worker."""


class EngineError(SelfHostedError):
	"""A container engine refused or failed a request; the message carries the engine's."""


class EngineUnreachable(EngineError):
	"""No engine answers at the endpoint (socket missing, connection refused, TLS refused)."""


class ImageMissing(EngineError):
	"""The engine does not have the image, and it could not be pulled."""


class NameConflict(EngineError):
	"""A container or network of that name already exists."""


class ContainerNotFound(EngineError):
	"""No container (or network, or exec) of that name or id."""


class PortsExhausted(EngineError):
	"""Every host port of the platform's range is in use."""


class BuildFailed(EngineError):
	"""An image build stopped: an instruction failed, or the context could not be sent."""


class ExecFailed(EngineError):
	"""A command run with check=True exited non-zero."""

	def __init__(self, message: str, exit_code: int = -1, output: str = ""):
		super().__init__(message)
		self.exit_code = exit_code
		self.output = output


class EngineTimeout(EngineError):
	"""An engine operation (such as an exec) ran past its timeout; it was stopped."""


class StorageError(SelfHostedError):
	"""The object store refused or failed a request; the message carries the store's."""


class StorageUnreachable(StorageError):
	"""No store answers at the endpoint."""


class AccessDenied(StorageError):
	"""The store refused the credentials or the signature."""


class ObjectNotFound(StorageError):
	"""No object (or bucket, or upload) of that key."""


class ChecksumMismatch(StorageError):
	"""Downloaded content does not match the SHA-256 recorded at upload."""


class QuotaExceeded(StorageError):
	"""The tenant's quota would be exceeded; nothing was uploaded."""


class TransferCancelled(StorageError):
	"""The transfer was cancelled: an upload's multipart upload was aborted, a download left
	no file."""


class DnsError(SelfHostedError):
	"""PowerDNS refused a change (its message is kept), or a lookup failed."""


class DnsUnreachable(DnsError):
	"""PowerDNS's API does not answer."""


class DnsAccessDenied(DnsError):
	"""PowerDNS refused the API key."""


class ZoneMissing(DnsError):
	"""The zone does not exist on the PowerDNS server."""


class DnsNotPropagated(DnsError):
	"""The authoritative servers did not answer what was expected in time; the message says
	what they answered last."""


class ProxyError(SelfHostedError):
	"""Traefik's configuration could not be written, or Traefik does not serve it as written."""


class ProxyUnreachable(ProxyError):
	"""Traefik's API does not answer."""


class RouteDisabled(ProxyError):
	"""Traefik loaded the router but does not serve it; the message carries Traefik's error."""


class RouteNotLoaded(ProxyError):
	"""Traefik did not load the router as written in time (is another file in its directory
	broken? Traefik then ignores the whole directory, and says so only in its log)."""


class MailError(SelfHostedError):
	"""The SMTP relay refused a message or could not be reached (its reply, never the password)."""


class ExecutorError(SelfHostedError):
	"""The local executor could not do what Press asked of it."""


class NotSupported(ExecutorError):
	"""An agent path the local executor does not answer (yet); the message names it."""


class StepFailed(ExecutorError):
	"""A job's step failed for a reason the administrator can act on; the message says it."""


class DatabaseError(ExecutorError):
	"""The Database Server refused or could not be reached (never with a password)."""


class SetupFailed(SelfHostedError):
	"""A step of `selfhosted setup` did not reach the state it set out to make; it is not
	reported as done, and the run's records are not committed."""


class MonitorError(SelfHostedError):
	"""Prometheus or Alertmanager refused a configuration (promtool's or amtool's message), or
	did not reload it."""
