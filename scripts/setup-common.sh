# Sourced by scripts/setup-*.sh: one announced way to install what a test needs (Debian/Ubuntu, apt-get).
#
#   log_prefix=setup-x; . scripts/setup-common.sh
#   need_packages "why they are needed" pkg1 pkg2    # installs the missing ones, saying which and why

log() { printf '%s: %s\n' "${log_prefix:-setup}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The packages among "$@" that dpkg does not list as installed.
missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || printf '%s\n' "$pkg"
    done
}

# need_packages WHY PKG...: install the missing PKGs with apt-get, printing what and why first.
# Not root, or no apt-get: stop with the command to run instead.
need_packages() {
    local why=$1 missing
    shift
    mapfile -t missing < <(missing_packages "$@")
    [ "${#missing[@]}" -gt 0 ] || return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "missing ${missing[*]} ($why): install them as root, e.g. 'sudo apt-get install ${missing[*]}'"
    fi
    log "installing ${missing[*]} with apt-get: $why"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt may be running (another setup script): wait for its locks instead of failing.
    local attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null >/dev/null; then break; fi
        [ "$attempt" -lt 10 ] || die "apt-get update failed"
        sleep 10
    done
    local out
    out=$(mktemp)
    if ! apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" </dev/null >"$out" 2>&1
    then
        tail -20 "$out" >&2
        rm -f "$out"
        die "apt-get install ${missing[*]} failed"
    fi
    rm -f "$out"
}
