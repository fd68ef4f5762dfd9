"""Stripe and Razorpay → no payment gateway.

`Team.create_new` (press/press/doctype/team/team.py) calls `create_stripe_customer`
unconditionally, and `get_stripe()` throws when Press Settings has no Stripe key, so signing up
fails on a platform without Stripe. While no key is configured, the gateway calls are skipped
here; once an operator adds keys, Press's own code runs again.

Site creation is gated by `Team.can_create_site` (free account, parent/billing team, or a
payment mode with credit). New teams are made free accounts unless Selfhosted Settings says
otherwise ("Prepaid Credits": the operator adds credit to a team through Press's own Balance
Transaction). The billing scheduler jobs are stopped by `bench selfhosted setup`.
"""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import active

TEAM = "press.press.doctype.team.team"


def gateway_configured(gateway: str) -> bool:
	fields = {"stripe": ("stripe_secret_key",), "razorpay": ("razorpay_key_id", "razorpay_key_secret")}[gateway]
	settings = frappe.get_single("Press Settings")
	return all(settings.get(f) for f in fields)


def without_gateway(gateway: str, fallback=None):
	"""Replaces a Team method that calls `gateway`: skipped (returning `fallback`) while the
	gateway is not configured."""

	def factory(original):
		def method(self, *args, **kwargs):
			if active() and not gateway_configured(gateway):
				return fallback
			return original(self, *args, **kwargs)

		method.__name__ = original.__name__
		return method

	return factory


def free_by_default(doc, method=None):
	"""Team before_insert: a free account, so it can create sites without a payment method.

	Its onboarding is skipped too: Press counts onboarding complete only once a card, UPI mandate
	or credit is added, and until then sends the customer from every login to /welcome to add
	one, through a gateway the platform does not have. Under prepaid credits the operator adds
	the credit (Balance Transaction), so that step is not the customer's either."""
	if frappe.db.get_single_value("Selfhosted Settings", "billing_mode") != "Prepaid Credits":
		doc.free_account = 1
	doc.skip_onboarding = 1


# The scheduler jobs that bill through a gateway (press/hooks.py scheduler_events); stopped by setup.
BILLING_JOBS = (
	"press.experimental.doctype.referral_bonus.referral_bonus.credit_referral_bonuses",
	"press.press.doctype.team.team.check_budget_alerts",
	"press.press.doctype.invoice.invoice.finalize_unpaid_prepaid_credit_invoices",
	"press.saas.doctype.saas_app_subscription.saas_app_subscription.suspend_prepaid_subscriptions",
	"press.press.doctype.payout_order.payout_order.create_marketplace_payout_orders",
	"press.press.doctype.payment_due_extension.payment_due_extension.remove_payment_due_extension",
	"press.press.doctype.invoice.invoice.sync_paid_invoices_to_frappeio",
	"press.press.doctype.invoice.invoice.finalize_unpaid_card_invoices",
	"press.press.doctype.usage_record.usage_record.link_unlinked_usage_records",
	"press.press.doctype.invoice.invoice.finalize_draft_invoices",
	"press.press.doctype.invoice.invoice.finalize_razorpay_mandate_invoices",
	"press.press.audit.billing_audit",
	"press.press.audit.partner_billing_audit",
	"press.press.doctype.razorpay_payment_record.razorpay_payment_record.fetch_pending_payment_orders",
	"press.press.doctype.server.server.archive_servers_with_unpaid_invoices",
	"press.press.doctype.subscription.subscription.create_usage_records",
	"press.press.doctype.team.suspend_sites.execute",
)

PATCHES = [
	(TEAM, "Team.create_stripe_customer", without_gateway("stripe")),
	(TEAM, "Team.update_billing_details_on_stripe", without_gateway("stripe")),
	(TEAM, "Team.get_stripe_balance", without_gateway("stripe", fallback=0)),
	(TEAM, "Team.create_razorpay_customer", without_gateway("razorpay")),
]
