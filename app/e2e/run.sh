#!/usr/bin/env bash
# Real-browser check of the served app (make e2e): headless Debian Chromium driven by Selenium.
#
#   bash app/e2e/run.sh            # exits non-zero on any failure
#
# Installs what it needs on first use: Debian's chromium, chromium-driver and an emoji font (apt,
# as root) and selenium into the venv. selenium is an e2e-only dependency, deliberately not in
# pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SELENIUM_VERSION=4.51.0  # 4.52 needs a certifi newer than the index here has

# fonts-noto-color-emoji: the status badges (🟠 contested, ...) are emoji
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
        || [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
    echo "e2e: installing Debian chromium, chromium-driver, fonts-noto-color-emoji" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
        fonts-noto-color-emoji >/dev/null
fi
if ! "$PY" -c "import selenium" >/dev/null 2>&1; then
    echo "e2e: installing selenium==$SELENIUM_VERSION into $PY's environment" >&2
    "$PY" -m pip install -q "selenium==$SELENIUM_VERSION"
fi
"$PY" app/e2e/markdown_check.py  # paper/API text with Markdown images: no request (issue 22)
exec "$PY" app/e2e/browser_check.py "$@"
