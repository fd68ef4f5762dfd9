"""A job of the local executor: the store behind Press's polls of `jobs/<id>` for servers
marked as Selfhosted Servers. Its integer name is the job id Press records; its state is the
agent's JSON; the request's secrets are kept in a Password field, out of the state."""

from frappe.model.document import Document


class LocalAgentJob(Document):
	pass
