#!/usr/bin/env bash
# Installs the object-store emulators the storage tests need that npm does not
# bring: moto (PyPI, server mode: S3 and DynamoDB in one process) in a venv
# under .emulators/. npm ci brings azurite and s3rver. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.5
venv=.emulators/venv
if [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c "import moto, sys; sys.exit(0 if moto.__version__ == '$MOTO_VERSION' else 1)" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
