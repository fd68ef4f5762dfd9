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

_dns = "press_selfhosted.integrations.dns"
doc_events = {
	"Root Domain": {"before_validate": f"{_dns}.keep_generic", "after_insert": f"{_dns}.create_zone"},
	**{
		doctype: {"on_update": f"{_dns}.server_changed", "on_trash": f"{_dns}.server_removed"}
		for doctype in ("Server", "Proxy Server", "Database Server")
	},
	"Site": {
		"after_insert": f"{_dns}.site_created",
		"on_update": f"{_dns}.site_changed",
		"after_rename": f"{_dns}.site_renamed",
		"on_trash": f"{_dns}.site_removed",
	},
	"Site Domain": {"after_insert": f"{_dns}.domain_added", "on_trash": f"{_dns}.domain_removed"},
}

# Platform Service records behind the "Self-Hosted Platform" workspace.
scheduler_events = {"cron": {"*/5 * * * *": ["press_selfhosted.health.refresh"]}}
