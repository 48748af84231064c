#!/usr/bin/env bash
# Install on this machine the tools `make test` needs beyond Python, the way every one of them is
# installed: announced, with the reason, and only when missing (Debian or Ubuntu, as root).
# `make test` runs it first (`make tools` runs it alone); once everything is there it only checks.
#
#   openssl                         tests/e2e/test_cli_network.py makes a throwaway TLS certificate
#   podman, runc, a Debian base     tests/container/ build and run the action's image (scripts/setup-podman.sh)
#   gitlab-ci-local, its Node.js,   tests/gitlab/test_e2e_gitlab_ci_local.py runs the component's pipelines
#     rsync                           (scripts/setup-gitlab-ci-local.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log_prefix=setup-tools
. scripts/setup-common.sh

started=$SECONDS
command -v openssl >/dev/null 2>&1 || need_packages "the HTTPS tests make a self-signed certificate with it" openssl
bash scripts/setup-podman.sh </dev/null
bash scripts/setup-gitlab-ci-local.sh </dev/null
log "ready: openssl, podman, the base image, gitlab-ci-local ($((SECONDS - started)) s)"
