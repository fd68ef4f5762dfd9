"""A record set on the platform's PowerDNS, listed, added, edited and deleted from the desk with
immediate effect. Virtual: PowerDNS is the only copy, so the desk never shows a stale record.
Named "<fqdn> <type>", e.g. "acme.cloud.example.com A"."""

from contextlib import contextmanager

import frappe
from frappe.model.document import Document

from press_selfhosted.exceptions import SelfHostedError
from press_selfhosted.integrations import services

FIELDS = ("name", "record_name", "record_type", "ttl", "zone", "content")


class DNSRecord(Document):
	def autoname(self):
		self.record_name = self.record_name.strip().rstrip(".").lower()
		self.name = f"{self.record_name} {self.record_type}"

	def db_insert(self, *args, **kwargs):
		if _find(self.name):
			frappe.throw(f"{self.name} already exists: edit it instead", frappe.DuplicateEntryError)
		self._write()

	def db_update(self, *args, **kwargs):
		self._write()

	def load_from_db(self):
		row = _find(self.name)
		if not row:
			raise frappe.DoesNotExistError(f"DNS Record {self.name} not found")
		super(Document, self).__init__(row)

	def delete(self, *args, **kwargs):
		with _typed_errors():
			zone = _zone(self.record_name)
			services().powerdns.delete(zone, [(self.record_name, self.record_type)])

	def _write(self):
		contents = [line.strip() for line in (self.content or "").splitlines() if line.strip()]
		if not contents:
			frappe.throw("Content needs at least one value")
		with _typed_errors():
			self.zone = _zone(self.record_name).rstrip(".")
			services().powerdns.upsert(self.zone, [(self.record_name, self.record_type, self.ttl or 300, contents)])

	@staticmethod
	def get_list(args):
		rows = _filtered(_rows(), args.get("filters"))
		start, limit = int(args.get("start") or args.get("limit_start") or 0), int(args.get("page_length") or args.get("limit") or 0)
		rows = rows[start : start + limit] if limit else rows[start:]
		if args.get("as_list"):
			return [[row.get(f) for f in FIELDS] for row in rows]
		return [frappe._dict(row) for row in rows]

	@staticmethod
	def get_count(args):
		return len(_filtered(_rows(), args.get("filters")))

	@staticmethod
	def get_stats(args):
		return {}


def _rows() -> list[dict]:
	rows = []
	pdns = services().powerdns
	for zone in pdns.zones():
		for name, kind, ttl, contents in pdns.records(zone):
			if kind == "SOA":
				continue
			fqdn = name.rstrip(".")
			rows.append({"doctype": "DNS Record", "name": f"{fqdn} {kind}", "creation": None, "modified": None, "record_name": fqdn, "record_type": kind,
				"ttl": ttl, "zone": zone.rstrip("."), "content": "\n".join(contents)})
	return sorted(rows, key=lambda r: (r["zone"], r["record_name"], r["record_type"]))


def _find(name: str) -> dict | None:
	return next((row for row in _rows() if row["name"] == name), None)


def _filtered(rows: list[dict], filters) -> list[dict]:
	"""The desk's equality and `like` filters, as dict or [doctype, field, op, value] lists."""
	if isinstance(filters, str):
		filters = frappe.parse_json(filters)
	if isinstance(filters, dict):
		filters = [[field, "=", value] for field, value in filters.items()]
	for condition in filters or []:
		field, op, value = condition[-3:]
		if op == "=":
			rows = [r for r in rows if str(r.get(field)) == str(value)]
		elif op == "like":
			needle = str(value).strip("%").lower()
			rows = [r for r in rows if needle in str(r.get(field)).lower()]
		else:
			frappe.throw(f"DNS Record lists filter with = or like, not {op}")
	return rows


def _zone(name: str) -> str:
	zone = services().dns.zone_for(name)
	if not zone:
		frappe.throw(f"{name} is in no zone on PowerDNS; add its Root Domain first")
	return zone


@contextmanager
def _typed_errors():
	"""PowerDNS and validation errors shown to the desk user as messages; nothing is written."""
	try:
		yield
	except SelfHostedError as e:
		frappe.throw(f"{e.__class__.__name__}: {e}")
