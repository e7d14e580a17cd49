#!/usr/bin/env bash
# Installs the Debian packages Renkei's build, tests and demo need, when
# missing. As root it runs apt-get; otherwise it names what to install.
set -euo pipefail

# chromium and libnss3-tools (certutil, pk12util): the browser tests
# (internal/testkit/chrome, discovery/consent_browser_test.go); npm
# fetches axe-core for them. fonts-ipafont-gothic: Japanese glyphs in
# their screenshots (without a CJK font Chromium draws empty boxes).
# systemd: systemd-analyze verifies the units in deploy/systemd.
pkgs=(libxml2-dev pkg-config libpcsclite-dev pcscd vsmartcard-vpcd opensc
      xmlsec1 python3-lasso postgresql libxml2-utils openssl chromium libnss3-tools
      fonts-ipafont-gothic systemd)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# npm may come with a Node.js that is not Debian's: install Debian's only
# when there is none.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Renkei needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root:  apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
