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
