"""The machine checkers the browser tests run over pages: axe-core for accessibility and the Nu HTML
Checker (vnu-jar, run with the machine's Java) for valid HTML.

Both come from the npm registry, pinned in tests/e2e/package.json and installed by `make install-dev`
(`npm ci --prefix tests/e2e --ignore-scripts`: vnu-jar's post-install step would download a Java;
Debian's default-jre-headless is used instead, see .ci/system-packages.sh).
"""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = HERE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# What blocks a user: axe's impact levels "serious" and "critical" fail the test.
BLOCKING = ("serious", "critical")


def require_checkers():
    missing = [str(path.relative_to(HERE)) for path in (AXE_JS, VNU_JAR) if not path.exists()]
    if not shutil.which("java"):
        missing.append("java (Debian: default-jre-headless)")
    if missing:
        reason = f"checkers missing: {', '.join(missing)}; run `make install-dev` (npm ci --prefix tests/e2e)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)


def install_axe(context):
    """Every page the context opens gets axe-core (an init script is not subject to the page's CSP)."""
    context.add_init_script(path=str(AXE_JS))


def axe_violations(page, where=""):
    """The serious and critical axe-core violations on the page as it is now, one line each."""
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
            found.append(f"{where} {violation['id']} ({violation['impact']}, {len(violation['nodes'])}×): "
                         f"{violation['help']} — {targets}")
    return found


def vnu_errors(documents):
    """Validator errors of {name: html source}: {name: [message, ...]} for the documents with errors.

    One Java run checks them all (the checker's start-up is the slow part)."""
    errors = {}
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for index, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"page{index:03d}.html"
            path.write_text(html, encoding="utf-8")
            files[path.name] = name
        result = subprocess.run(
            ["java", "-Djava.security.egd=file:/dev/./urandom", "-jar", str(VNU_JAR), "--errors-only",
             "--no-langdetect", "--format", "json", *[str(Path(folder) / file_name) for file_name in files]],
            capture_output=True, text=True, timeout=600)
        try:
            report = json.loads(result.stderr or result.stdout)
        except ValueError:
            raise AssertionError(f"the HTML checker gave no report (exit {result.returncode}): "
                                 f"{result.stdout[-500:]} {result.stderr[-500:]}") from None
        for message in report.get("messages", []):
            if message.get("type") != "error" and message.get("subType") != "fatal":
                continue
            url = message.get("url", "")
            name = files.get(url.rsplit("/", 1)[-1], url or "?")
            line = message.get("lastLine", "?")
            errors.setdefault(name, []).append(f"line {line}: {message.get('message')} «{(message.get('extract') or '').strip()[:80]}»")
    return errors
