// Checks the built bundle (src/wk_widget/static/widget.js) for what strict hosts forbid:
// VS Code's notebook webview (and any page with a strict Content-Security-Policy) blocks
// eval and new Function, and the widget must never fetch code or data from the network
// (everything travels over the kernel's comm). Exits 1 and names each finding.
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? "../src/wk_widget/static/widget.js";
const code = readFileSync(path, "utf8");

const FORBIDDEN = [
  [/(^|[^.\w$])eval\s*\(/g, "eval()"],
  [/\bnew\s+Function\s*\(/g, "new Function()"],
  [/(^|[^.\w$])Function\s*\(\s*["'`]/g, "Function(\"code\")"],
  [/(^|[^.\w$])import\s*\(/g, "dynamic import()"],
  [/\bimportScripts\s*\(/g, "importScripts()"],
  [/(^|[^.\w$])fetch\s*\(/g, "fetch()"],
  [/\bXMLHttpRequest\b/g, "XMLHttpRequest"],
  [/\bnew\s+(WebSocket|EventSource|Worker|SharedWorker)\s*\(/g, "network or worker constructor"],
  [/\bsendBeacon\s*\(/g, "navigator.sendBeacon()"],
  [/\bdocument\.write\s*\(/g, "document.write()"],
  [/\.innerHTML\s*=/g, "innerHTML assignment"],
  [/setAttribute\(\s*["']style["']/g, "style attribute (blocked by style-src without 'unsafe-inline')"],
  [/setTimeout\(\s*["'`]|setInterval\(\s*["'`]/g, "string timer (eval)"],
  [/@import\b|url\(\s*["']?(https?:)?\/\//g, "CSS that loads from the network"],
];
// URL strings are allowed only as placeholders shown to the user.
const ALLOWED_URL = /^https?:\/\/(\\u2026|…|example\.org|s3\.example\.org|,)?$/;

const findings = [];
for (const [re, what] of FORBIDDEN) {
  for (const m of code.matchAll(re)) {
    findings.push(`${what}: …${code.slice(Math.max(0, m.index - 40), m.index + 40)}…`);
  }
}
for (const m of code.matchAll(/https?:\/\/[^\s"'`)<>]*/g)) {
  const url = m[0].replace(/[,;]$/, "");
  if (!ALLOWED_URL.test(url)) findings.push(`URL in the bundle: ${url}`);
}
if (findings.length > 0) {
  console.error(`${path}: ${findings.length} construct(s) a strict webview forbids:\n  ${findings.join("\n  ")}`);
  process.exitCode = 1;
} else {
  console.log(`${path}: no eval, no Function(), no network access, no remote URLs, no style attributes (${code.length} bytes)`);
}
