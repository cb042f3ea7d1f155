import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_BINDINGS, VIEW_KEYS, bindingOf, runViewKey, type ViewAction, type ViewActions } from "../src/keys.ts";
import { TOOLS } from "../src/ui/toolPicker.ts";

test("the help lists every key the views handle", () => {
  // the handler runs from the same table the help renders: every view key has an action
  const keys = VIEW_KEYS.flatMap((b) => b.keys);
  assert.ok(keys.length >= 20, `found ${keys.length} keys`);
  for (const b of VIEW_KEYS) assert.ok(b.run, `key ${b.keys.join("/")} has no action`);
  for (const k of keys) assert.ok(bindingOf(k), `key ${k} is not in the help`);
  for (const t of TOOLS) assert.ok(bindingOf(t.key), `tool key ${t.key} is not in the help`);
  for (const k of ["Escape", "?"]) assert.ok(bindingOf(k));
  assert.ok(ALL_BINDINGS.some((b) => b.mouse && b.keys.includes("shift+click")));
});

test("view keys run their action (with shift), other keys run nothing", () => {
  const calls: [ViewAction, boolean][] = [];
  const names: ViewAction[] = ["slicePrev", "sliceNext", "panLeft", "panRight", "panUp", "panDown", "zoomIn", "zoomOut", "modeXY", "modeXZ", "modeYZ", "modeOrtho"];
  const actions = Object.fromEntries(names.map((n) => [n, (shift: boolean) => { calls.push([n, shift]); }])) as ViewActions;
  assert.equal(runViewKey(",", true, actions), true);
  assert.equal(runViewKey("PageUp", false, actions), true);
  assert.equal(runViewKey("a", false, actions), true);
  assert.equal(runViewKey("4", false, actions), true);
  assert.equal(runViewKey("x", false, actions), false);
  assert.deepEqual(calls, [["slicePrev", true], ["sliceNext", false], ["panLeft", false], ["modeOrtho", false]]);
  assert.deepEqual(new Set(VIEW_KEYS.map((b) => b.run)), new Set(names));
});
