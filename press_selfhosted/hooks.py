app_name = "press_selfhosted"
app_title = "Press Self-Hosted"
app_publisher = "press_selfhosted maintainers"
app_description = "Run Frappe Press on your own machines: local container engines, S3-compatible storage, PowerDNS, Traefik and a platform certificate authority"
app_email = "maintainers@press-selfhosted.invalid"
app_license = "agpl-3.0"

# "org/app" form: on Frappe v15 a bare name makes install-app look the app up on GitHub,
# even when it is installed (frappe/installer.py parse_app_name).
required_apps = ["frappe/press"]

# Press keeps the hooks cache across install-app's cache clear: these make ours take effect
# (and stop) at once, without a Redis flush (press_selfhosted/press_selfhosted/lifecycle.py).
after_install = "press_selfhosted.press_selfhosted.lifecycle.after_install"
after_uninstall = "press_selfhosted.press_selfhosted.lifecycle.after_uninstall"

# The bench's container (output, CPU, memory) on the desk's Bench and Site forms.
doctype_js = {"Bench": "public/js/container_view.js", "Site": "public/js/container_view.js"}

# Module attributes Press looks up at call time are patched here (press_selfhosted/integrations).
before_request = ["press_selfhosted.integrations.install"]
before_job = ["press_selfhosted.integrations.install"]

# Route53 → PowerDNS on the events Press would call it; a wildcard from the platform CA for each
# Root Domain; a Tenant Storage record per site; teams that need no payment gateway; Prometheus's
# scrape targets (monitoring.targets_changed) following Press's servers, benches, sites, domains.
doc_events = {
	# `bench console` runs no request or job hook: any document saved there installs the patches
	# first (idempotent), before Press's own code on that document can reach what they replace.
	"*": {"before_validate": "press_selfhosted.integrations.install"},
	"Root Domain": {
		"before_validate": "press_selfhosted.integrations.dns.keep_generic",
		"after_insert": ["press_selfhosted.integrations.dns.create_zone", "press_selfhosted.integrations.tls.request_wildcard"],
	},
	"Server": {
		"on_update": ["press_selfhosted.integrations.dns.server_changed", "press_selfhosted.integrations.monitoring.targets_changed"],
		"on_trash": ["press_selfhosted.integrations.dns.server_removed", "press_selfhosted.integrations.monitoring.targets_changed"],
	},
	"Proxy Server": {
		"on_update": ["press_selfhosted.integrations.dns.server_changed", "press_selfhosted.integrations.monitoring.targets_changed"],
		"on_trash": ["press_selfhosted.integrations.dns.server_removed", "press_selfhosted.integrations.monitoring.targets_changed"],
	},
	"Database Server": {
		"on_update": ["press_selfhosted.integrations.dns.server_changed", "press_selfhosted.integrations.monitoring.targets_changed"],
		"on_trash": ["press_selfhosted.integrations.dns.server_removed", "press_selfhosted.integrations.monitoring.targets_changed"],
	},
	# The monitor server's name resolves as the other servers' do (Press's Prometheus URL).
	"Monitor Server": {
		"on_update": "press_selfhosted.integrations.dns.server_changed",
		"on_trash": "press_selfhosted.integrations.dns.server_removed",
	},
	"Bench": {
		"on_update": "press_selfhosted.integrations.monitoring.targets_changed",
		"on_trash": "press_selfhosted.integrations.monitoring.targets_changed",
	},
	"Site": {
		"after_insert": ["press_selfhosted.integrations.dns.site_created", "press_selfhosted.integrations.storage.create_tenant_storage"],
		"on_update": ["press_selfhosted.integrations.dns.site_changed", "press_selfhosted.integrations.storage_integration.site_changed",
			"press_selfhosted.integrations.monitoring.targets_changed"],
		"after_rename": ["press_selfhosted.integrations.dns.site_renamed", "press_selfhosted.integrations.storage_integration.site_renamed",
			"press_selfhosted.integrations.monitoring.targets_changed"],
		"on_trash": ["press_selfhosted.integrations.dns.site_removed", "press_selfhosted.integrations.monitoring.targets_changed"],
	},
	"Site Domain": {
		"after_insert": ["press_selfhosted.integrations.dns.domain_added", "press_selfhosted.integrations.monitoring.targets_changed"],
		"on_update": "press_selfhosted.integrations.monitoring.targets_changed",
		"on_trash": ["press_selfhosted.integrations.dns.domain_removed", "press_selfhosted.integrations.monitoring.targets_changed"],
	},
	"Team": {"before_insert": "press_selfhosted.integrations.billing.free_by_default"},
}

# Press endpoints that call AWS or Mailgun, answered by press_selfhosted with the same arguments.
override_whitelisted_methods = {
	"press.api.site.get_upload_link": "press_selfhosted.integrations.storage.get_upload_link",
	"press.api.site.multipart_exit": "press_selfhosted.integrations.storage.multipart_exit",
	"press.api.email.send_mime_mail": "press_selfhosted.integrations.mail.send_mime_mail",
	"frappe.realtime.can_subscribe_doc": "press_selfhosted.integrations.site_jobs.can_subscribe_doc",
}

# Press's own series for the monitor (/metrics/press-selfhosted), beside Press's /metrics.
page_renderer = ["press_selfhosted.integrations.monitoring.MetricsPage"]

scheduler_events = {
	# Platform Service records behind the "Self-Hosted Platform" workspace.
	"cron": {"*/5 * * * *": ["press_selfhosted.press_selfhosted.doctype.platform_service.health.refresh",
		"press_selfhosted.integrations.monitoring.refresh_targets"]},
	"daily": ["press_selfhosted.integrations.tls.alert_expiring_certificates", "press_selfhosted.integrations.storage.refresh_tenant_usage"],
}
