#!/usr/bin/env bash
# The compose stack, for operators: `make up`, `make down`, `make status` run this.
#	deploy/platform.sh up [SERVICE...]   first run: secrets into .env (0600), the stack up in the
#	                                     order its healthchecks allow, Garage made usable, then the
#	                                     Press site made, press_selfhosted installed, Selfhosted
#	                                     Settings filled and `selfhosted setup` run. Again: nothing
#	                                     changes. With SERVICE names, only those (and no Press set-up
#	                                     unless backend is among them).
#	deploy/platform.sh down               every container stopped and removed; volumes kept
#	deploy/platform.sh status             each service, its state and its health
#	deploy/platform.sh config             the compose file as the tool reads it with these settings
#	                                     (podman-compose: the podman commands it would run)
# COMPOSE picks the tool ("docker compose", "docker-compose" or "podman-compose"; default: the
# first that works). PLATFORM_ENV names another .env, PLATFORM_IMAGES_ENV another .env.images.
set -euo pipefail
shopt -s inherit_errexit  # a failing step inside $(…) fails the run too
here=$(cd "$(dirname "$0")" && pwd)
env_file=${PLATFORM_ENV:-$here/.env}
images_env=${PLATFORM_IMAGES_ENV:-$here/.env.images}
PROJECT=erp-saas-cloud-c16
INFRA=(traefik mariadb redis-cache redis-queue garage powerdns registry smtp alertmanager prometheus)
PRESS=(backend websocket frontend queue-short queue-long scheduler)
TIMEOUT=${PLATFORM_TIMEOUT:-600}

say() { echo "platform: $*" >&2; }
die() { say "$*"; exit 1; }

pick_compose() {
	if [ -n "${COMPOSE:-}" ]; then read -ra compose <<<"$COMPOSE"; return; fi
	if docker compose version >/dev/null 2>&1; then compose=(docker compose)
	elif command -v docker-compose >/dev/null; then compose=(docker-compose)
	elif command -v podman-compose >/dev/null; then compose=(podman-compose)
	else die "no compose tool: install docker compose, docker-compose or podman-compose"; fi
}

# .env as compose reads it (KEY=VALUE, literally), for this script's own use; the caller's
# environment wins, as it does for compose.
load() {
	local file=$1 line key
	[ -f "$file" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in '' | '#'*) continue ;; esac
		key=${line%%=*}
		[ -n "${!key+x}" ] || export "$key=${line#*=}"
	done <"$file"
}

# Strong secrets, generated once into .env when missing (never printed).
secrets() {
	local name value
	umask 077
	touch "$env_file"
	chmod 600 "$env_file"
	for spec in MARIADB_ROOT_PASSWORD:24 ADMIN_PASSWORD:16 REDIS_PASSWORD:24 GARAGE_RPC_SECRET:32 GARAGE_ADMIN_TOKEN:24 GARAGE_ACCESS_KEY:GK \
		GARAGE_SECRET_KEY:32 PDNS_API_KEY:24 REGISTRY_PASSWORD:24; do
		name=${spec%%:*}
		grep -q "^$name=" "$env_file" && continue
		case "${spec#*:}" in GK) value="GK$(openssl rand -hex 12)" ;; *) value=$(openssl rand -hex "${spec#*:}") ;; esac
		printf '%s=%s\n' "$name" "$value" >>"$env_file"
		say "generated $name into $env_file"
	done
}

# The registry's bcrypt password file, made from REGISTRY_PASSWORD (read on standard input).
htpasswd_file() {
	local file=${REGISTRY_HTPASSWD:-$here/.secrets/registry.htpasswd}
	# A compose tool that mounted it before it existed made a folder of it.
	[ -d "$file" ] && die "$file is a folder (a compose tool made it when the file was missing): remove it and run again"
	[ -s "$file" ] && return 0
	mkdir -p "$(dirname "$file")"
	(umask 077
	if command -v htpasswd >/dev/null; then
		printf '%s' "$REGISTRY_PASSWORD" | htpasswd -niB "${REGISTRY_USER:-platform}" >"$file"
	else
		printf '%s' "$REGISTRY_PASSWORD" | python3 -W ignore -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
			"${REGISTRY_USER:-platform}" >"$file"
	fi)
	# The registry reads it as root in its container; the file stays the operator's.
	chmod 644 "$file"
}

engine_of() { case "${compose[0]}" in podman-compose) echo podman ;; *) echo docker ;; esac; }

# state|health of a container ("missing" when there is none). Podman without systemd runs no
# healthcheck timers, so a check is run here whenever its health is asked for.
health() {
	local name="$PROJECT-$1"
	if ! "$engine" container inspect "$name" >/dev/null 2>&1; then echo "missing|"; return; fi
	[ "$engine" = podman ] && podman healthcheck run "$name" >/dev/null 2>&1 || true
	"$engine" container inspect -f '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name"
}

wait_healthy() {
	local started=$SECONDS service state pending
	while :; do
		pending=()
		for service in "$@"; do
			state=$(health "$service")
			# `up -d` has returned: a container still only created failed to start.
			case "$state" in *"|healthy") ;; created* | exited* | dead* | missing*) die "$service is ${state%|*}: see '$engine logs $PROJECT-$service'" ;;
				*) pending+=("$service:$state") ;; esac
		done
		((${#pending[@]} == 0)) && return 0
		((SECONDS - started > TIMEOUT)) && die "not healthy after ${TIMEOUT}s: ${pending[*]}"
		sleep 3
	done
}

# Every secret of .env, masked in what the tools print (podman-compose prints each podman
# command, environment values included).
SECRETS=(MARIADB_ROOT_PASSWORD ADMIN_PASSWORD REDIS_PASSWORD GARAGE_RPC_SECRET GARAGE_ADMIN_TOKEN GARAGE_SECRET_KEY PDNS_API_KEY
	REGISTRY_PASSWORD S3_SECRET_KEY SMTP_RELAY_PASSWORD)
mask() {
	SECRET_NAMES="${SECRETS[*]}" python3 -u -c '
import os, sys
values = sorted({os.environ[k] for k in os.environ["SECRET_NAMES"].split() if len(os.environ.get(k, "")) >= 4}, key=len, reverse=True)
for line in sys.stdin:
	for value in values:
		line = line.replace(value, "***")
	sys.stdout.write(line)'
}

run_compose() {
	local rc
	(cd "$here" && "${compose[@]}" -p "$PROJECT" -f compose.yaml "$@") 2>&1 | mask
	rc=${PIPESTATUS[0]}
	return "$rc"
}

garage_init() {
	GARAGE_ADMIN_URL="http://127.0.0.1:${S3_ADMIN_PORT:-32393}" S3_BUCKET="${S3_BUCKET:-platform}" python3 "$here/services/garage_init.py"
}

# The Press site, once: frappe_docker's common_site_config, the site with press and
# press_selfhosted, Selfhosted Settings from the stack's own services, `selfhosted setup`, and
# the site's own route through Traefik. Secrets reach the container through its environment.
press_init() {
	local site=$PRESS_SITE
	local in=("$engine" exec -i -e ADMIN_PASSWORD -e MARIADB_ROOT_PASSWORD -e REDIS_PASSWORD "$PROJECT-backend")
	# frappe_docker's configurator's settings, written by Python so the Redis password is on no
	# command line.
	"${in[@]}" env/bin/python - <<PY >&2
import json, os
path = "sites/common_site_config.json"
config = json.load(open(path)) if os.path.exists(path) else {}
redis = lambda name: f"redis://:{os.environ['REDIS_PASSWORD']}@$PROJECT-{name}:6379"
config.update(db_host="$PROJECT-mariadb", db_port=3306, redis_cache=redis("redis-cache"), redis_queue=redis("redis-queue"),
	redis_socketio=redis("redis-queue"), socketio_port=9000)
with open(path + ".new", "w") as f:
	json.dump(config, f, indent=1)
os.replace(path + ".new", path)
PY
	"${in[@]}" bash -c '
		set -e
		ls -1 apps >sites/apps.txt
		if [ ! -d "sites/'"$site"'" ]; then
			bench new-site "'"$site"'" --mariadb-user-host-login-scope=% --db-root-username=root \
				--db-root-password="$MARIADB_ROOT_PASSWORD" --admin-password="$ADMIN_PASSWORD" --set-default
		fi
		for app in press press_selfhosted; do
			bench --site "'"$site"'" list-apps | grep -qw "$app" || bench --site "'"$site"'" install-app "$app"
		done
		# A new site starts with its scheduler off; Press runs on it (bench queues, job polling).
		bench --site "'"$site"'" scheduler status | grep -q enabled || bench --site "'"$site"'" enable-scheduler' >&2
	# Frappe's setup wizard, answered from the settings (it does nothing once complete), so the
	# Administrator lands in the desk.
	local wizard
	wizard=$(python3 -c 'import json, os; e = os.environ.get; print(json.dumps({"args": {"language": e("SETUP_LANGUAGE") or "English",
	"country": e("SETUP_COUNTRY") or "United States", "timezone": e("SETUP_TIMEZONE") or "UTC", "currency": e("SETUP_CURRENCY") or "USD"}}))')
	"$engine" exec "$PROJECT-backend" bench --site "$site" execute frappe.desk.page.setup_wizard.setup_wizard.setup_complete \
		--kwargs "$wizard" >&2
	local settings
	settings=$(python3 - <<'PY'
import json, os
e = os.environ.get
project = "erp-saas-cloud-c16"
print(json.dumps({
	"engine_endpoints": "unix:///run/engine.sock",
	"bench_network": e("BENCH_NETWORK") or f"{project}-net-platform", "bench_upstream": "network",
	"mariadb_address": f"{project}-mariadb:3306", "mariadb_bench_address": f"{project}-mariadb:3306",
	"mariadb_root_password": e("MARIADB_ROOT_PASSWORD"),
	"s3_endpoint": e("S3_ENDPOINT") or f"http://{project}-garage:3900", "s3_region": e("S3_REGION") or "garage",
	"s3_bucket": e("S3_BUCKET") or "platform", "s3_access_key": e("S3_ACCESS_KEY") or e("GARAGE_ACCESS_KEY"),
	"s3_secret_key": e("S3_SECRET_KEY") or e("GARAGE_SECRET_KEY"),
	**({} if e("S3_ENDPOINT") else {"s3_admin_url": f"http://{project}-garage:3903", "s3_admin_token": e("GARAGE_ADMIN_TOKEN")}),
	"pdns_api_url": f"http://{project}-powerdns:8081", "pdns_api_key": e("PDNS_API_KEY"),
	"root_domain": e("ROOT_DOMAIN") or "erp.internal", "public_address": e("PUBLIC_ADDRESS") or "127.0.0.1",
	"dns_server": f"{project}-powerdns:53", "site_https_address": f"{project}-traefik:443",
	"traefik_config_dir": e("TRAEFIK_DYNAMIC_DIR") or "/etc/traefik/dynamic", "traefik_api_url": f"http://{project}-traefik:8080",
	"https_entry_point": "websecure", "http_entry_point": "web",
	"registry_url": f"127.0.0.1:{e('REGISTRY_PORT') or '32350'}", "registry_username": e("REGISTRY_USER") or "platform",
	"registry_password": e("REGISTRY_PASSWORD"),
	"smtp_server": e("SMTP_RELAY") or f"{project}-smtp", "smtp_port": int(e("SMTP_RELAY_PORT") or "1025"),
	"smtp_use_tls": int(e("SMTP_RELAY_TLS") or "0"), "smtp_username": e("SMTP_RELAY_USER") or "",
	"smtp_password": e("SMTP_RELAY_PASSWORD") or "",
}))
PY
)
	printf '%s' "$settings" | "$engine" exec -i "$PROJECT-backend" bench --site "$site" selfhosted configure \
		--press-upstream "http://$PROJECT-frontend:8080" >&2
	"$engine" exec "$PROJECT-backend" bench --site "$site" selfhosted setup >&2
	echo "$site"
}

# The engine's socket for the executor's containers, and its group (so that user frappe may use it).
engine_socket() {
	if [ -z "${ENGINE_SOCKET:-}" ]; then
		if [ "$engine" = podman ]; then
			ENGINE_SOCKET=$(podman info --format '{{.Host.RemoteSocket.Path}}' 2>/dev/null)
			ENGINE_SOCKET=${ENGINE_SOCKET#unix://}
		else
			ENGINE_SOCKET=/var/run/docker.sock
		fi
		export ENGINE_SOCKET
	fi
	if [ -z "${ENGINE_SOCKET_GID:-}" ] && [ -S "$ENGINE_SOCKET" ]; then
		ENGINE_SOCKET_GID=$(stat -c %g "$ENGINE_SOCKET")
		export ENGINE_SOCKET_GID
	fi
}

up() {
	local wanted=("$@") infra=() press=() service
	((${#wanted[@]})) || wanted=("${INFRA[@]}" "${PRESS[@]}")
	for service in "${wanted[@]}"; do
		if [[ " ${PRESS[*]} " == *" $service "* ]]; then press+=("$service"); else infra+=("$service"); fi
	done
	local image=${PRESS_IMAGE:-erp-saas-cloud-c16/press:local}
	if ((${#press[@]})) && ! "$engine" image inspect "$image" >/dev/null 2>&1; then
		die "no Press image $image on $engine: build it with frappe_docker (README, 'The Press image') or set PRESS_IMAGE in $env_file"
	fi
	htpasswd_file
	local t0=$SECONDS
	# Compose's own start order follows depends_on; waiting on health here as well makes it
	# hold for tools that start in order without waiting (podman-compose).
	if ((${#infra[@]})); then
		run_compose up -d "${infra[@]}" >&2
		wait_healthy "${infra[@]}"
		say "healthy: ${infra[*]} ($((SECONDS - t0)) s)"
		[[ " ${infra[*]} " == *" garage "* ]] && garage_init
		# Press (user frappe, uid 1000) writes the routes Traefik reads: the stack's own volume is
		# made theirs (a host folder named by TRAEFIK_DYNAMIC_SOURCE stays the operator's).
		if [[ " ${infra[*]} " == *" traefik "* ]] && [ "${TRAEFIK_DYNAMIC_SOURCE:-traefik-dynamic}" = traefik-dynamic ]; then
			"$engine" exec -u 0 "$PROJECT-traefik" chown 1000:1000 "${TRAEFIK_DYNAMIC_DIR:-/etc/traefik/dynamic}"
		fi
	fi
	if ((${#press[@]})); then
		# backend alone first: an engine fills an empty named volume (sites) from the image when
		# a container first mounts it, and several at once race on the same files.
		run_compose up -d backend >&2
		wait_healthy backend
		local site
		site=$(press_init)
		run_compose up -d "${press[@]}" >&2
		wait_healthy "${press[@]}"
		say "Press is up at https://$site:${HTTPS_PORT:-32443}/ ($((SECONDS - t0)) s); log in as Administrator, password: ADMIN_PASSWORD in $env_file"
	fi
}

status() {
	local service state
	printf '%-14s %-10s %s\n' service state health
	for service in "${INFRA[@]}" "${PRESS[@]}"; do
		state=$(health "$service")
		printf '%-14s %-10s %s\n' "$service" "${state%%|*}" "${state#*|}"
	done
}

main() {
	local command=${1:-}
	shift || true
	pick_compose
	engine=$(engine_of)
	load "$env_file"
	load "$images_env"
	case "$command" in
		up) secrets; load "$env_file"; engine_socket
			# The site's name follows ROOT_DOMAIN unless set (compose cannot nest defaults).
			export PRESS_SITE=${PRESS_SITE:-press.${ROOT_DOMAIN:-erp.internal}}
			up "$@" ;;
		# podman-compose 1.0 leaves the network: it goes too, unless a tenant bench still uses it.
		down) run_compose down >&2
			"$engine" network rm "${BENCH_NETWORK:-$PROJECT-net-platform}" >/dev/null 2>&1 || true ;;
		status) status ;;
		# podman-compose 1.0 has no `config`: its dry run prints what it would run instead.
		config) if [ "${compose[0]}" = podman-compose ]; then run_compose --dry-run up -d; else run_compose config; fi ;;
		*) die "usage: platform.sh up [SERVICE...] | down | status | config" ;;
	esac
}

main "$@"
