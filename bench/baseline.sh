#!/usr/bin/env bash
# The hand-written baseline: what a user would put in a workflow `run:` step instead of the action.
#
#   exchange the API token for a JWT → list the environment's secrets → ::add-mask:: every value →
#   append one NAME<<DELIM heredoc record per secret to GITHUB_ENV → names/count to GITHUB_OUTPUT.
#
# The same exchange, list and file-command writes as the action (github-runner.md §1 safe writer
# pattern: random delimiter, masks before anything else), with curl and jq and nothing more. It
# skips what the action adds on top (name validation, retries, error hints, the step summary), so
# it is a floor, not a strawman.
#
# Inputs (environment): ENKRYPTIFY_TOKEN, ENKRYPTIFY_API_URL, ENKRYPTIFY_WORKSPACE, ENKRYPTIFY_PROJECT,
# ENKRYPTIFY_ENVIRONMENT_ID, GITHUB_ENV, GITHUB_OUTPUT, RUNNER_TEMP.
set -euo pipefail

api=${ENKRYPTIFY_API_URL:-https://api.enkryptify.com}
ws=${ENKRYPTIFY_WORKSPACE:?} prj=${ENKRYPTIFY_PROJECT:?} env_id=${ENKRYPTIFY_ENVIRONMENT_ID:?}
body=$(mktemp "${RUNNER_TEMP:-/tmp}/secrets.XXXXXX")
trap 'rm -f "$body"' EXIT

# Tokens reach curl as a config line on stdin (-K -), never on its command line.
bearer() { printf 'header = "Authorization: Bearer %s"\n' "$1"; }

echo "::add-mask::$ENKRYPTIFY_TOKEN"
jwt=$(bearer "$ENKRYPTIFY_TOKEN" |
    curl -fsS -K - -X POST -H 'Content-Type: application/json' --data '{}' "$api/v1/auth/exchange" |
    jq -r .accessToken)
echo "::add-mask::$jwt"

bearer "$jwt" | curl -fsS -K - -o "$body" -G --data-urlencode "environmentId=$env_id" \
    "$api/v1/workspace/$ws/project/$prj/secret"

# Each secret's shared value in this environment (secrets without one are left out).
pick='[.[] | {name, value: ([.values[] | select(.environmentId == $env and (.isPersonal | not)) | .value][0])}
       | select(.value != null)]'
delim="ghadelimiter_$(cat /proc/sys/kernel/random/uuid)"

jq -r --arg env "$env_id" "$pick"' | .[] | "::add-mask::\(.value)"' "$body"
jq -r --arg env "$env_id" --arg d "$delim" "$pick"' | .[] | "\(.name)<<\($d)\n\(.value)\n\($d)"' "$body" \
    >>"$GITHUB_ENV"
jq -r --arg env "$env_id" --arg d "$delim" "$pick"' | "names<<\($d)\n\(map(.name) | tojson)\n\($d)\ncount=\(length)"' \
    "$body" >>"$GITHUB_OUTPUT"
