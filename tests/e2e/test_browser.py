#!/usr/bin/env python3
"""Browser tests (issue 6): headless Chromium against a live cxsearchd.

Runs tests/browser/run.mjs (playwright-core driving Debian's
/usr/bin/chromium) on: the search page, the one-line widget on a "wiki"
page of another origin, InstantSearch with instant-meilisearch, and
docs-searchbar.js, the last two pointed at the Meilisearch-compatible API.

Facts that shaped it:
- `npx playwright install` cannot work here (no internet beyond package
  registries), so the browser is Debian's chromium package
  (scripts/install-deps --test installs it). When it is missing and we are
  root with apt-get, it is installed; otherwise the test is skipped (77)
  saying so.
- The npm packages are installed with `npm ci` from tests/browser's lock
  file into the build folder (CXS_BUILD_DIR/browser), not the source tree,
  so two build folders never race on one node_modules; the install is
  reused while the lock file is unchanged.
- The complete example pages of docs/embedding.md (marked
  "<!-- example: NAME -->") are run too, as doc-NAME, with the daemon's
  address for http://127.0.0.1:8080 and the npm packages' files for their
  CDN URLs, whose versions must be the ones in package.json: so the pages
  readers copy are the pages tested.
- Screenshots go to CXS_BUILD_DIR/browser-artifacts/*.png.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import BUILD_DIR, SOURCE_DIR, Harness, free_port, npm_ci, skip  # noqa

BROWSER_SRC = os.path.join(SOURCE_DIR, "tests", "browser")
WORK = os.path.join(BUILD_DIR, "browser")
ARTIFACTS = os.path.join(BUILD_DIR, "browser-artifacts")
CHROMIUM = os.environ.get("CXS_CHROMIUM", "/usr/bin/chromium")


def apt_install(*pkgs):
    """Installs Debian packages when we are root and apt-get exists."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
    if subprocess.run(cmd + list(pkgs), env=env).returncode == 0:
        return True
    subprocess.run(["apt-get", "update", "-qq"], env=env)
    return subprocess.run(cmd + list(pkgs), env=env).returncode == 0


def need_tools():
    if not os.access(CHROMIUM, os.X_OK):
        print("chromium not found at %s; trying apt-get" % CHROMIUM)
        apt_install("chromium")
    if not os.access(CHROMIUM, os.X_OK):
        skip("Chromium is not installed and cannot be installed here (run "
             "scripts/install-deps --test as root, or set CXS_CHROMIUM)")
    if not shutil.which("node") or not shutil.which("npm"):
        print("node/npm not found; trying apt-get")
        apt_install("nodejs", "npm")
    if not shutil.which("node") or not shutil.which("npm"):
        skip("node and npm are needed to drive Chromium (playwright-core)")


CDN = re.compile(r'https://cdn\.jsdelivr\.net/npm/((?:@[^/@"]+/)?[^/@"]+)@'
                 r'([^/"]+)/[^"\s]*/([^/"\s]+)"')


def doc_examples():
    """The example pages of docs/embedding.md, made to run locally."""
    with open(os.path.join(SOURCE_DIR, "docs", "embedding.md"),
              encoding="utf-8") as f:
        doc = f.read()
    with open(os.path.join(BROWSER_SRC, "package.json")) as f:
        versions = json.load(f)["devDependencies"]
    pages = {}
    for m in re.finditer(r"<!-- example: ([a-z-]+\.html)[^\n]*\n```html\n"
                         r"(.*?)\n```", doc, re.S):
        name, page = m.group(1), m.group(2)
        for pkg, ver, _ in CDN.findall(page):
            if versions.get(pkg) != ver:
                print("FAIL: docs/embedding.md %s loads %s@%s but the tests "
                      "use %s" % (name, pkg, ver, versions.get(pkg)))
                sys.exit(1)
        page = CDN.sub(r'/vendor/\3"', page)
        pages["doc-" + name] = page.replace("http://127.0.0.1:8080",
                                            "{{CXS}}")
    if len(pages) < 2:
        print("FAIL: docs/embedding.md: the marked example pages are "
              "missing (found %s)" % sorted(pages))
        sys.exit(1)
    return pages


def up_to_date(lock):
    stamp = os.path.join(WORK, "node_modules", ".package-lock.json")
    return (os.path.exists(stamp) and
            os.path.getmtime(stamp) >= os.path.getmtime(lock))


def prepare():
    """Copies the runner and pages to the build folder; npm ci there."""
    os.makedirs(WORK, exist_ok=True)
    for name in ("package.json", "package-lock.json", "run.mjs"):
        shutil.copy2(os.path.join(BROWSER_SRC, name), os.path.join(WORK, name))
    shutil.rmtree(os.path.join(WORK, "pages"), ignore_errors=True)
    shutil.copytree(os.path.join(BROWSER_SRC, "pages"),
                    os.path.join(WORK, "pages"))
    for name, page in doc_examples().items():
        with open(os.path.join(WORK, "pages", name), "w",
                  encoding="utf-8") as f:
            f.write(page)
    if up_to_date(os.path.join(BROWSER_SRC, "package-lock.json")):
        return
    npm_ci(WORK)


def main():
    need_tools()
    prepare()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS)
    pages_port = free_port()
    with Harness() as h:
        h.index(os.path.join(SOURCE_DIR, "data", "sample"))
        h.start_daemon("cors_origins = http://127.0.0.1:%d\n"
                       "access_log = off\n" % pages_port)
        env = dict(os.environ, CXS_URL="http://127.0.0.1:%d" % h.port,
                   PAGES_PORT=str(pages_port), ARTIFACTS=ARTIFACTS,
                   CHROMIUM=CHROMIUM)
        try:
            p = subprocess.run(["node", os.path.join(WORK, "run.mjs")],
                               cwd=WORK, env=env, timeout=300)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            print("FAIL: the browser run took over 300 s")
            rc = 1
        if h.proc.poll() is not None:
            print("FAIL: cxsearchd died: " + h.daemon_log())
            rc = 1
        else:
            h.proc.send_signal(signal.SIGTERM)
            code = h.proc.wait(20)
            log = h.daemon_log()
            if code != 0 or "Sanitizer" in log or "runtime error" in log:
                print("FAIL: cxsearchd exit %r: %s" % (code, log[-2000:]))
                rc = 1
    print("screenshots: " + ARTIFACTS)
    sys.exit(rc)


if __name__ == "__main__":
    main()
