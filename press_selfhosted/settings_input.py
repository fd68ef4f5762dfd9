"""Values for Selfhosted Settings given as one JSON object (`bench selfhosted configure`, which
the compose stack's first run pipes in): checked against the doctype's fields before anything is
saved, so a wrong name or type is a ValidationError and changes nothing. Plain data: the field
list comes from the caller (the doctype's JSON)."""

from __future__ import annotations

import json

from press_selfhosted.exceptions import ValidationError

TEXT = {"Data", "Small Text", "Password", "Select", "Long Text", "Text"}
INTEGER = {"Int", "Check"}
# What an Int of the form holds (MariaDB's INT).
INT_RANGE = range(-(2**31), 2**31)


def parse(text: str, fields: dict[str, dict]) -> dict[str, str | int]:
	"""`fields`: fieldname → the doctype's field (fieldtype, options). Returns the values to set."""
	try:
		values = json.loads(text)
	except ValueError as e:
		raise ValidationError(f"the settings are not JSON: {e}") from None
	if not isinstance(values, dict):
		raise ValidationError("the settings must be one JSON object of field names and values")
	checked: dict[str, str | int] = {}
	for name, value in values.items():
		field = fields.get(name)
		if field is None:
			raise ValidationError(f"Selfhosted Settings has no field {name!r}")
		kind = field["fieldtype"]
		if kind in INTEGER:
			if isinstance(value, bool) or not isinstance(value, int):
				raise ValidationError(f"{name} takes an integer, got {type(value).__name__}")
			if value not in INT_RANGE:
				raise ValidationError(f"{name}: {value} is out of range")
			if kind == "Check" and value not in (0, 1):
				raise ValidationError(f"{name} takes 0 or 1, got {value}")
		elif kind in TEXT:
			if not isinstance(value, str):
				raise ValidationError(f"{name} takes text, got {type(value).__name__}")
			options = [o for o in (field.get("options") or "").splitlines() if o]
			if kind == "Select" and value and value not in options:
				raise ValidationError(f"{name} is one of {', '.join(options)}, got {value!r}")
		else:
			raise ValidationError(f"{name} is a {kind} field, which cannot be set this way")
		checked[name] = value
	return checked
