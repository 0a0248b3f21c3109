#!/usr/bin/env bash
# Screenshots of the lab page for the README: docs/screenshot-light.png and docs/screenshot-dark.png,
# docs/screenshot-explain.png (the "Explain an error" section with its example explained),
# docs/screenshot-check.png ("Check your own server's answer" with its example checked, dark),
# docs/screenshot-predict.png (a card in "Predict first" mode, predicted, run and scored),
# docs/screenshot-compare.png ("Compare policies": a policy with a field of its own against three
# presets, on nine scenarios, one cell's Why? open) and
# docs/screenshot-walk.png ("Try a request": the form's request walked, then sent for real).
#
# Starts the lab (target/debug/cors-lab when built, else `cargo run`), opens the trusted page in
# headless Chromium with `#autorun=…` (the page runs those scenarios on load, as a teacher's link
# would), waits until their cards show a result, and saves the top of the page in light and dark
# mode. Everything it started is stopped on exit, also on Ctrl-C or failure.
#
# Environment:
#   TRUSTED_PORT, UNTRUSTED_PORT, API_PORT   ports of the three servers (default 8080, 8081, 9090)
#   SCENARIOS      scenarios to run first (default get-simple,put-item,unlisted-header)
#   WIDTH, HEIGHT  the screenshot's size in CSS pixels (default 1280 × 2000)
#   OUT_DIR        where the PNGs go (default docs/)
#   CHROMIUM       the browser to use (default: chromium, chromium-browser or google-chrome)
#   CORS_PRESET …  any CORS_* variable is passed to the lab as usual
# Needs python3 (standard library only): it drives Chromium over --remote-debugging-pipe.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

TRUSTED_PORT=${TRUSTED_PORT:-8080}
UNTRUSTED_PORT=${UNTRUSTED_PORT:-8081}
API_PORT=${API_PORT:-9090}
SCENARIOS=${SCENARIOS:-get-simple,put-item,unlisted-header}
WIDTH=${WIDTH:-1280}
HEIGHT=${HEIGHT:-2000}
OUT_DIR=${OUT_DIR:-$ROOT/docs}

export LAB_TRUSTED_ORIGIN="http://localhost:$TRUSTED_PORT"
export LAB_UNTRUSTED_ORIGIN="http://127.0.0.1:$UNTRUSTED_PORT"
export LAB_API_URL="http://localhost:$API_PORT"
export LAB_API_ALT_URL="http://127.0.0.1:$API_PORT"
export LAB_TRUSTED_LISTEN="127.0.0.1:$TRUSTED_PORT"
export LAB_UNTRUSTED_LISTEN="127.0.0.1:$UNTRUSTED_PORT"
export LAB_API_LISTEN="127.0.0.1:$API_PORT"

find_chromium() {
  if [ -n "${CHROMIUM:-}" ]; then echo "$CHROMIUM"; return; fi
  for c in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return; fi
  done
  echo "no Chromium found: install Debian's chromium, or set CHROMIUM=/path/to/chrome" >&2
  exit 1
}
BROWSER=$(find_chromium)
command -v python3 >/dev/null || { echo "python3 is needed to drive Chromium" >&2; exit 1; }

for port in "$TRUSTED_PORT" "$UNTRUSTED_PORT" "$API_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is taken: stop what runs there, or set TRUSTED_PORT, UNTRUSTED_PORT, API_PORT" >&2
    exit 1
  fi
done

WORK=$(mktemp -d)
LAB_PID=""
cleanup() {
  if [ -n "$LAB_PID" ] && kill -0 "$LAB_PID" 2>/dev/null; then
    kill "$LAB_PID" 2>/dev/null || true
    wait "$LAB_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -x target/debug/cors-lab ] && [ -z "${REBUILD:-}" ]; then
  target/debug/cors-lab >"$WORK/lab.log" 2>&1 &
else
  cargo build --quiet --bin cors-lab
  target/debug/cors-lab >"$WORK/lab.log" 2>&1 &
fi
LAB_PID=$!

for _ in $(seq 1 100); do
  if python3 - "$LAB_API_URL" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].replace("localhost", "127.0.0.1") + "/_lab/health", timeout=1).read()
PY
  if ! kill -0 "$LAB_PID" 2>/dev/null; then
    echo "the lab did not start:" >&2
    cat "$WORK/lab.log" >&2
    exit 1
  fi
  sleep 0.2
done

mkdir -p "$OUT_DIR"
URL="$LAB_TRUSTED_ORIGIN/#autorun=$SCENARIOS"
echo "screenshots of $URL"

python3 - "$BROWSER" "$URL" "$SCENARIOS" "$WIDTH" "$HEIGHT" "$OUT_DIR" "$WORK" <<'PY'
# A tiny DevTools-protocol client over --remote-debugging-pipe (fd 3: to Chromium, fd 4: from it).
import base64, json, os, subprocess, sys, time

browser, url, scenarios, width, height, out_dir, work = sys.argv[1:8]
width, height = int(width), int(height)
ids = [s for s in scenarios.split(",") if s]

to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()

def child_fds():
    # Chromium reads commands from fd 3 and writes to fd 4: move the pipe ends there (through
    # fresh descriptors, in case one of them already is 3 or 4).
    a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
    os.dup2(a, 3)
    os.dup2(b, 4)

proc = subprocess.Popen(
    [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--remote-debugging-pipe", f"--user-data-dir={work}/profile", f"--window-size={width},{height}",
     "about:blank"],
    pass_fds=sorted({3, 4, to_chrome_r, from_chrome_w}), preexec_fn=child_fds,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chrome_r)
os.close(from_chrome_w)
writer = os.fdopen(to_chrome_w, "wb")
reader = os.fdopen(from_chrome_r, "rb")
next_id = 0
buffer = b""

def read_message():
    global buffer
    while b"\0" not in buffer:
        chunk = reader.read1(1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed the pipe")
        buffer += chunk
    raw, buffer = buffer.split(b"\0", 1)
    return json.loads(raw)

def send(method, params=None, session=None):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    writer.write(json.dumps(msg).encode() + b"\0")
    writer.flush()
    while True:
        reply = read_message()
        if reply.get("id") == next_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply.get("result", {})

def evaluate(session, expression):
    r = send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session)
    return r.get("result", {}).get("value")

def wait_for(session, expression, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if evaluate(session, expression):
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {expression}")

try:
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    send("Page.enable", session=session)
    send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
    for scheme in ("light", "dark"):
        send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}, session)
        send("Page.navigate", {"url": url}, session)
        wait_for(session, "document.body && document.body.dataset.ready === 'true'")
        done = " && ".join(f"document.querySelector('[data-scenario=\"{i}\"]')?.dataset.state === 'done'" for i in ids) or "true"
        wait_for(session, done)
        wait_for(session, "document.getElementById('journal-status')?.dataset.status === 'live'", 10)
        evaluate(session, "window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); true")
        time.sleep(0.5)
        shot = send("Page.captureScreenshot", {"format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}, session)
        path = os.path.join(out_dir, f"screenshot-{scheme}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print(f"  {path}")
    def section_shot(section, name, scheme, steps, seconds=10):
        """Runs `steps` (pairs of script, then condition to wait for) and saves the section."""
        send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}, session)
        for script, condition in steps:
            evaluate(session, script)
            wait_for(session, condition, seconds)
        evaluate(session, "document.activeElement && document.activeElement.blur(); true")
        time.sleep(0.3)
        box = evaluate(session, f"(() => {{ const r = document.getElementById('{section}').getBoundingClientRect(); return {{ x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height }}; }})()")
        shot = send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {"x": max(box["x"] - 16, 0), "y": max(box["y"] - 16, 0), "width": box["width"] + 32, "height": box["height"] + 32, "scale": 1}}, session)
        path = os.path.join(out_dir, f"screenshot-{name}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print(f"  {path}")

    # The explainer: its example, explained.
    section_shot("explain", "explain", "light", [
        ("document.getElementById('explain-example').click(); document.getElementById('explain-submit').click(); true",
         "document.getElementById('explain-result')?.dataset.state === 'done'"),
        ("document.querySelector('#explain-result details')?.setAttribute('open', ''); true", "true"),
    ])
    # The answer checker: its example (curl -sv of a preflight), checked, in dark mode.
    section_shot("check", "check", "dark", [
        ("document.getElementById('check-example').click(); document.getElementById('check-submit').click(); true",
         "document.getElementById('check-result')?.dataset.state === 'done'"),
    ])
    # Predict first: a card predicted (wrongly), then run and scored.
    section_shot("scenario-unlisted-header", "predict", "light", [
        ("document.getElementById('predict-mode').click(); document.querySelector('input[name=\"predict-unlisted-header-preflight\"][value=\"no\"]').click(); document.querySelector('input[name=\"predict-unlisted-header-outcome\"][value=\"pass\"]').click(); document.querySelector('[data-run=\"unlisted-header\"]').click(); true",
         "document.querySelector('[data-scenario=\"unlisted-header\"] .predict__score')?.dataset.asked === '2'"),
    ])
    # Compare policies: a policy of one's own (strict, with X-Other allowed) against strict,
    # permissive and off, on nine scenarios, one cell's Why? open. The comparison puts the own
    # policy back; the walk below resets to the starting one.
    compare = "get-simple,post-json,put-item,patch-lowercase,unlisted-header,authorization-header,credentialed-get,read-exposed,no-cors-get"
    section_shot("compare", "compare", "light", [
        ("corsLab.switchPolicy({ variables: { CORS_PRESET: 'strict', CORS_ALLOW_HEADERS: 'content-type,x-token,authorization,x-other' } }).then(() => true)",
         "document.querySelector('input[name=compare-preset][value=now]') !== null"),
        (f"location.hash = 'compare=now,strict,permissive,off&compare-scenarios={compare}'; true",
         "[...document.querySelectorAll('input[name=compare-preset]:checked')].length === 4"),
        ("document.getElementById('compare-run').click(); true",
         "document.getElementById('compare').dataset.state === 'done'"),
        ("document.querySelector('td[data-preset=strict][data-scenario=unlisted-header] [data-details]').click(); true",
         "!document.getElementById('compare-detail').hidden"),
    ], seconds=120)
    # A walk: the form's credentialed PUT with JSON, walked, then sent for real from the page.
    section_shot("walk", "walk", "light", [
        ("corsLab.switchPolicy({ reset: true }).then(() => true)", "corsLab.policy?.preset === 'strict'"),
        ("document.getElementById('walk-credentials').checked = true; document.getElementById('walk-submit').click(); true",
         "document.getElementById('walk-result')?.dataset.state === 'done'"),
        ("document.getElementById('walk-send').click(); true",
         "document.getElementById('walk-real')?.dataset.state === 'done'"),
    ])
finally:
    try:
        send("Browser.close")
    except Exception:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
PY
