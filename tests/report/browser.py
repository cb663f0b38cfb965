"""Headless Chromium for the page tests (Debian's chromium and chromium-driver, driven with
python3-selenium): importing this module exits 77 (meson's SKIP) when one of them is missing.

    d = browser()
    state = load(d, "file:///…/page.html")   # [ready, error] from the page's <html> data-
    errors(d)                                # the console's errors
    shot(d, folder, name)                    # a screenshot of the whole page
"""
import os
import subprocess
import sys
import tempfile
import time

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By  # noqa: F401 (for the tests)
    from selenium.webdriver.common.keys import Keys  # noqa: F401
except ImportError:
    # Debian's python3-selenium is /usr/bin/python3's; meson may have found another python
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            subprocess.run(["/usr/bin/python3", "-c", "import selenium"],
                           capture_output=True).returncode == 0:
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP: python3-selenium is not installed")
    sys.exit(77)
if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
    print("SKIP: chromium or chromium-driver is not installed")
    sys.exit(77)

WIDTH, HEIGHT = 1280, 1400


def browser():
    o = Options()
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--user-data-dir=" + tempfile.mkdtemp(prefix="imgstat-chromium-"),
              "--window-size=%d,%d" % (WIDTH, HEIGHT)):
        o.add_argument(a)
    o.binary_location = CHROMIUM
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=o)


def drawn(d):
    """[ready, error] once the page says one of them (its <html> data-ready, data-error)."""
    for _ in range(200):
        state = d.execute_script("var e = document.documentElement;"
                                 "return [e.dataset.ready || null, e.dataset.error || null];")
        if state[0] or state[1]:
            return state
        time.sleep(0.05)
    return [None, "timed out"]


def load(d, url):
    d.get(url)
    return drawn(d)


def errors(d):
    return [e for e in d.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def shot(d, folder, name):
    """Save the whole page as folder/name.png."""
    os.makedirs(folder, exist_ok=True)
    d.execute_script("window.scrollTo(0, 0);")
    h = d.execute_script("return document.documentElement.scrollHeight;")
    d.set_window_size(WIDTH, min(max(h + 200, 900), 6000))
    d.save_screenshot(os.path.join(folder, name + ".png"))
    d.set_window_size(WIDTH, HEIGHT)
