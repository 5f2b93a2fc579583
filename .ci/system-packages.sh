#!/usr/bin/env bash
# Debian packages govbot's tests need: chromium (browser tests),
# PostgreSQL and Redis (scale-out tests), sox (audio checks), CJK fonts (screenshots),
# sipp (sip-tester), baresip and kamailio (real SIP calls to the built-in SIP endpoint).
set -euo pipefail
PKGS=(chromium postgresql redis-server sox fonts-noto-cjk sip-tester baresip kamailio)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm installs axe-core for the browser tests; a machine with Node.js from elsewhere already has it.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
