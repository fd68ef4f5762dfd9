"""press_selfhosted: run Frappe Press on your own machines.

Kept free of imports: Frappe loads this package (and its hooks) in every process, while the
native core is loaded only where it is used.
"""

__version__ = "0.3.15"
