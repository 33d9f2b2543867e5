#!/usr/bin/env bash
# The HTML report of `govdata assess` in a real browser, from a fresh clone: installs
# Chromium with apt-get when it is missing, then runs cli/tests/assess_html.rs, which
# renders the report of the planted-problem scenario and of the example inventory
# headless, and checks that the page's own script ran, that every count it shows
# matches the JSON report, that every link leads into the page and that nothing comes
# from outside it. Fails, never skips, when Chromium cannot be installed or run.
# Installs Debian's fonts-noto-cjk when no CJK font is present, so that the page's
# Chinese text renders as text and not as empty boxes.
#
#   bash scripts/test-assess-html.sh
#   GOVDATA_CHROMIUM=/path/to/chrome bash scripts/test-assess-html.sh
set -euo pipefail
cd "$(dirname "$0")/.."

find_chromium() {
  if [ -n "${GOVDATA_CHROMIUM:-}" ]; then
    echo "$GOVDATA_CHROMIUM"
    return
  fi
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null; then
      command -v "$name"
      return
    fi
  done
}

browser=$(find_chromium || true)
if [ -z "$browser" ]; then
  echo "== installing chromium"
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >/dev/null
  browser=$(find_chromium || true)
fi
if [ -z "$browser" ] || ! "$browser" --version >/dev/null 2>&1; then
  echo "no working Chromium (tried GOVDATA_CHROMIUM, chromium, chromium-browser, google-chrome)" >&2
  exit 1
fi
# The report is bilingual: without a CJK font the Chinese renders as empty boxes.
if ! fc-list :lang=zh family 2>/dev/null | grep -q .; then
  echo "== installing fonts-noto-cjk"
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  if ! apt-cache show fonts-noto-cjk >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq fonts-noto-cjk >/dev/null
  if ! fc-list :lang=zh family 2>/dev/null | grep -q .; then
    echo "fonts-noto-cjk is installed but fontconfig finds no Chinese font" >&2
    exit 1
  fi
fi

echo "== assess: the HTML report in $("$browser" --version 2>/dev/null | head -n 1)"

# --workspace resolves features as `cargo test --workspace` does, so its build is reused.
GOVDATA_CHROMIUM="$browser" GOVDATA_REQUIRE_CHROMIUM=1 \
  cargo test --locked --workspace --test assess_html -- --nocapture
