"""Size of widget.js and how fast an answer appears in a real browser.

Run: ``.venv/bin/python benchmarks/widget.py`` (after ``make browser`` installed
Chromium and terser, and ``make run`` or ``make test`` trained the model). It prints:

- widget.js raw, gzip, minified (terser from ``var/node``) and minified + gzip
  (target: ≤ 12 KB minified and gzipped),
- in headless Chromium against the real stack (action server, Rasa, widget on free
  loopback ports): time from pressing Enter on a question to the answer being
  painted in the widget, median and p90 over 20 questions.
"""

from __future__ import annotations

import gzip
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import CHROMIUM, CHROMIUM_ARGS, loopback_settings  # noqa: E402
from bot.settings import REPO_ROOT  # noqa: E402
from bot.stack.prepare import prepare  # noqa: E402
from bot.stack.services import Stack  # noqa: E402

WIDGET = REPO_ROOT / "web_widget" / "static" / "widget.js"
TERSER = REPO_ROOT / "var" / "node" / "node_modules" / "terser" / "bin" / "terser"
QUESTIONS = [
    "What is SEN Support?",
    "what does special educational needs mean",
    "How do I ask for an EHC needs assessment?",
    "who pays for the extra help at school",
    "what does a SENCo do",
    "my son is struggling at school what can I do",
    "can I get help with my child's mental health",
    "how often should the school review the plan",
    "what is an EHCP",
    "what is a graduated approach",
]
# Ask in the widget and resolve once the first answer is in the log and painted.
TIMED_ASK = """async (question) => {
  const root = document.querySelector('#senbot-widget').shadowRoot;
  const log = root.querySelector('.log');
  const input = root.querySelector('textarea');
  const before = log.querySelectorAll('.msg.bot').length;
  return await new Promise(resolve => {
    let t0;
    const seen = new MutationObserver(() => {
      if (log.querySelectorAll('.msg.bot').length > before) {
        seen.disconnect();
        const answer = log.querySelectorAll('.msg.bot')[before];
        requestAnimationFrame(() => resolve({ms: performance.now() - t0,
          error: answer.classList.contains('err') || /wait a minute/.test(answer.textContent)}));
      }
    });
    seen.observe(log, {childList: true});
    input.value = question;
    t0 = performance.now();
    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
  });
}"""


def kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def sizes() -> None:
    raw = WIDGET.read_bytes()
    if not TERSER.exists():
        raise SystemExit("terser is missing: run `make browser`")
    minified = subprocess.run(
        ["node", str(TERSER), str(WIDGET), "--compress", "--mangle"],
        check=True,
        capture_output=True,
    ).stdout
    min_gz = len(gzip.compress(minified, 9))
    print(
        f"widget.js raw {kb(len(raw))}, gzip {kb(len(gzip.compress(raw, 9)))}, "
        f"minified {kb(len(minified))}, minified + gzip {kb(min_gz)} (target ≤ 12 KB)"
    )


def answer_times() -> None:
    from playwright.sync_api import sync_playwright

    settings = loopback_settings("senbot-widget-bench-")
    prepare(settings)
    # 21 questions in a minute from one conversation: above the default limit.
    stack = Stack(settings, extra_env={"SENBOT_RATE_LIMIT_SESSION": "120/minute"})
    try:
        stack.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://{settings.host}:{settings.widget_port}/demo")
            page.get_by_role("button", name="Ask about SEN Support").click()
            page.evaluate(TIMED_ASK, "hello")  # warm-up: first model call, not timed
            timings = []
            for i in range(20):
                result = page.evaluate(TIMED_ASK, QUESTIONS[i % len(QUESTIONS)])
                if result["error"]:  # a can't-connect or rate-limit reply is no answer
                    raise SystemExit(f"question {i + 1} got no answer; see var/logs/")
                timings.append(result["ms"])
                page.wait_for_timeout(50)  # let the rest of the reply land
            browser.close()
    finally:
        stack.stop()
    timings.sort()
    p90 = timings[int(0.9 * (len(timings) - 1))]
    print(
        f"question -> answer painted in the widget (headless Chromium, 20 questions): "
        f"median {statistics.median(timings):.0f} ms, p90 {p90:.0f} ms"
    )


if __name__ == "__main__":
    sizes()
    answer_times()
