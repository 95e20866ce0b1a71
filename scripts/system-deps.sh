# Sourced by scripts/test: install the Debian packages the test suite drives for real
# (headless Chromium for the browser sign-in tests, redis-server for the Redis cache tests)
# when they are missing. Needs root (CI and the project machines run as root).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "scripts: installing ${need[*]} with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "scripts: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
        exit 1
    fi
fi
