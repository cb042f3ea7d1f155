import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ALL_BINDINGS, bindingOf } from "../src/keys.ts";
import { TOOLS } from "../src/ui/toolPicker.ts";

test("the help lists every key the views handle", () => {
  const src = readFileSync("src/controller.ts", "utf8");
  const body = src.slice(src.indexOf("private onKey("));
  const keys = [...body.slice(0, body.indexOf("\n  }\n")).matchAll(/case "([^"]+)":/g)].map((m) => m[1]!);
  assert.ok(keys.length >= 20, `found ${keys.length} keys`);
  for (const k of keys) assert.ok(bindingOf(k), `key ${k} is not in the help`);
  for (const t of TOOLS) assert.ok(bindingOf(t.key), `tool key ${t.key} is not in the help`);
  for (const k of ["Escape", "?"]) assert.ok(bindingOf(k));
  assert.ok(ALL_BINDINGS.some((b) => b.mouse && b.keys.includes("shift+click")));
});
