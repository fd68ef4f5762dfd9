app_name = "press_selfhosted"
app_title = "Press Self-Hosted"
app_publisher = "press_selfhosted maintainers"
app_description = "Run Frappe Press on your own machines: local container engines, S3-compatible storage, PowerDNS, Traefik and a platform certificate authority"
app_email = "maintainers@press-selfhosted.invalid"
app_license = "agpl-3.0"

# "org/app" form: on Frappe v15 a bare name makes install-app look the app up on GitHub,
# even when it is installed (frappe/installer.py parse_app_name).
required_apps = ["frappe/press"]
