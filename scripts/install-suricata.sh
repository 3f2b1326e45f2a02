#!/usr/bin/env bash
# Install Suricata 7 from Debian's packages (bookworm-backports on Debian 12, main on Debian 13+,
# the distribution's package elsewhere, e.g. Ubuntu's universe). Idempotent; needs root (or sudo).
set -euo pipefail
if command -v suricata >/dev/null 2>&1 && suricata -V 2>/dev/null | grep -q "version 7"; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
. /etc/os-release
if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Same mirror as the machine's main sources.
    uri=$( (grep -rhoE "https?://[^ ]+/debian/?( |$)" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true) \
          | head -n1 | tr -d ' ')
    uri=${uri:-http://deb.debian.org/debian}
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$uri" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q -t bookworm-backports suricata
else
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q suricata
fi
suricata -V
