#!/usr/bin/env bash
# action.yml's install step: driftlint into a virtualenv of its own (runners' system Python
# refuses `pip install`), its bin/ put on PATH for the following steps.
#
# DRIFTLINT_VERSION set: that release from PyPI, a prebuilt wheel (seconds). Empty: this
# action's own source, built by pip through maturin (minutes, with the runner's Rust), so that
# the binary is exactly the version the workflow pinned with `uses: driftlint/driftlint@<ref>`.
set -euo pipefail

venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/driftlint-venv"
python3 -m venv "$venv"
if [ -n "${DRIFTLINT_VERSION:-}" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "driftlint==${DRIFTLINT_VERSION}"
else
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${GITHUB_ACTION_PATH:?}"
fi
echo "$venv/bin" >> "${GITHUB_PATH:?}"
"$venv/bin/driftlint" --version
