app_name = "press_selfhosted"
app_title = "Press Self-Hosted"
app_publisher = "press_selfhosted maintainers"
app_description = "Run Frappe Press on your own machines: local container engines, S3-compatible storage, PowerDNS, Traefik and a platform certificate authority"
app_email = "maintainers@press-selfhosted.invalid"
app_license = "agpl-3.0"

required_apps = ["press"]
