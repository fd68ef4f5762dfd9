"""press_selfhosted: run Frappe Press on your own machines.

The house rule: modules at the top of the package, and `executor/`, are plain Python (data in,
results or typed exceptions out) and never import frappe, so they run and are tested without
a bench. Frappe's side is in `integrations/` (Press behaviour replaced, one file per thing),
`commands/` (`bench selfhosted …`), `patches/`, and `press_selfhosted/` (the Frappe module:
doctypes, their server code, install hooks). tests/test_package.py checks the rule.

Kept free of imports: Frappe loads this package (and its hooks) in every process, while the
native core is loaded only where it is used.
"""

__version__ = "0.3.24"
