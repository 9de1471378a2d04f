#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the console's browser tests (Playwright
# drives /usr/bin/chromium; no browser is ever downloaded by Playwright). Installs the
# package when missing and this runs as root with apt; prints what it finds so a CI log
# shows it. Under CI a missing browser makes the browser tests fail, never skip.
set -u
browser=${SAMESAY_CHROMIUM:-/usr/bin/chromium}
if [ -x "$browser" ]; then
  echo "chromium: $("$browser" --version 2>/dev/null | head -n1) at $browser"; exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not installed, installing Debian's package (apt-get install chromium)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends chromium >/tmp/samesay-chromium-install.log 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium \
         >/tmp/samesay-chromium-install.log 2>&1; } \
    || { tail -n 20 /tmp/samesay-chromium-install.log >&2; }
  if [ -x "$browser" ]; then echo "chromium: installed ($("$browser" --version 2>/dev/null | head -n1))"; exit 0; fi
fi
echo "chromium: not available at $browser; the browser tests (tests/console) will $( [ -n "${CI:-}" ] && echo fail || echo skip ) (install it: apt-get install chromium)" >&2
exit 0
