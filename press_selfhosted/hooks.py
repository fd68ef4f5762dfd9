app_name = "press_selfhosted"
app_title = "Press Self-Hosted"
app_publisher = "press_selfhosted maintainers"
app_description = "Run Frappe Press on your own machines: local container engines, S3-compatible storage, PowerDNS, Traefik and a platform certificate authority"
app_email = "maintainers@press-selfhosted.invalid"
app_license = "agpl-3.0"

# "org/app" form: on Frappe v15 a bare name makes install-app look the app up on GitHub,
# even when it is installed (frappe/installer.py parse_app_name).
required_apps = ["frappe/press"]

# Module attributes Press looks up at call time are patched here (press_selfhosted/integrations).
before_request = ["press_selfhosted.integrations.install"]
before_job = ["press_selfhosted.integrations.install"]

_integrations = "press_selfhosted.integrations"
_dns, _tls, _storage = f"{_integrations}.dns", f"{_integrations}.tls", f"{_integrations}.storage"
doc_events = {
	"Root Domain": {
		"before_validate": f"{_dns}.keep_generic",
		"after_insert": [f"{_dns}.create_zone", f"{_tls}.request_wildcard"],
	},
	**{
		doctype: {"on_update": f"{_dns}.server_changed", "on_trash": f"{_dns}.server_removed"}
		for doctype in ("Server", "Proxy Server", "Database Server")
	},
	"Site": {
		"after_insert": [f"{_dns}.site_created", f"{_storage}.create_tenant_storage"],
		"on_update": f"{_dns}.site_changed",
		"after_rename": f"{_dns}.site_renamed",
		"on_trash": f"{_dns}.site_removed",
	},
	"Site Domain": {"after_insert": f"{_dns}.domain_added", "on_trash": f"{_dns}.domain_removed"},
	"Team": {"before_insert": f"{_integrations}.billing.free_by_default"},
}

# Press endpoints that call AWS or Mailgun, answered by press_selfhosted with the same arguments.
override_whitelisted_methods = {
	"press.api.site.get_upload_link": f"{_storage}.get_upload_link",
	"press.api.site.multipart_exit": f"{_storage}.multipart_exit",
	"press.api.email.send_mime_mail": f"{_integrations}.mail.send_mime_mail",
}

scheduler_events = {
	# Platform Service records behind the "Self-Hosted Platform" workspace.
	"cron": {"*/5 * * * *": ["press_selfhosted.health.refresh"]},
	"daily": [f"{_tls}.alert_expiring_certificates", f"{_storage}.refresh_tenant_usage"],
}
