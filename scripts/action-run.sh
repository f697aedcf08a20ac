#!/usr/bin/env bash
# action.yml's check step: `driftlint check` with the action's inputs (DRIFTLINT_* variables),
# run for a readable report in the log, for annotations (`--format github`), and for SARIF.
# Exits with the check's status. A static check takes milliseconds; with a database URL the
# read-only live check runs once per format.
set -uo pipefail

args=(check)
[ -n "${DRIFTLINT_MIGRATIONS:-}" ] && args+=(--migrations "$DRIFTLINT_MIGRATIONS")
[ -n "${DRIFTLINT_EXPECTATIONS:-}" ] && args+=(--expectations "$DRIFTLINT_EXPECTATIONS")
[ -n "${DRIFTLINT_DATABASE_URL:-}" ] && args+=(--database-url "$DRIFTLINT_DATABASE_URL")
if [ -n "${DRIFTLINT_ARGS:-}" ]; then
  read -r -a extra <<< "$DRIFTLINT_ARGS"
  args+=("${extra[@]}")
fi

if [ -n "${DRIFTLINT_AGAINST:-}" ]; then
  ref="$DRIFTLINT_AGAINST"
  # actions/checkout fetches one commit by default: bring the ref in when the clone lacks it.
  if ! git rev-parse --verify --quiet "${ref}^{commit}" >/dev/null; then
    for remote in $(git remote); do
      branch="${ref#"$remote"/}"
      if [ "$branch" != "$ref" ] && [ -n "$branch" ]; then
        echo "driftlint: fetching $ref (git fetch --no-tags --depth=1 $remote $branch)"
        git fetch --quiet --no-tags --depth=1 "$remote" "$branch:refs/remotes/$remote/$branch" || true
        break
      fi
    done
  fi
  args+=(--against "$ref")
fi

status=0
driftlint --color always "${args[@]}" --format human || status=$?
if [ "$status" -le 1 ]; then
  driftlint "${args[@]}" --format github || true
  if [ -n "${DRIFTLINT_SARIF_FILE:-}" ]; then
    driftlint "${args[@]}" --format sarif > "$DRIFTLINT_SARIF_FILE" || true
    echo "sarif-file=$DRIFTLINT_SARIF_FILE" >> "${GITHUB_OUTPUT:-/dev/null}"
  fi
else
  echo "::error title=driftlint::driftlint could not run the check (exit $status); its message is in the log above"
fi
exit "$status"
