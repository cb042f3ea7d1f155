import assert from "node:assert/strict";
import { test } from "node:test";
import { AUTO_HEIGHT_MAX, AUTO_HEIGHT_MIN, NARROW_PX, drawer, isNarrow, viewsHeight, type DrawerInput } from "../src/layout.ts";

const base: DrawerInput = { hasData: true, hasPreview: true, staged: 0, busy: false, formOpen: false, previewOpen: false };

test("with a dataset, the form and the preview are folded", () => {
  assert.deepEqual(drawer(base), { form: false, preview: false });
});

test("without a dataset, the form is open (and the preview of an explored source)", () => {
  assert.deepEqual(drawer({ ...base, hasData: false, hasPreview: false }), { form: true, preview: false });
  assert.deepEqual(drawer({ ...base, hasData: false, staged: 2 }), { form: true, preview: true });
});

test("a source being added or reviewed opens the form and the preview", () => {
  assert.deepEqual(drawer({ ...base, busy: true }), { form: true, preview: false });
  assert.deepEqual(drawer({ ...base, staged: 1 }), { form: true, preview: true });
});

test("the toolbar opens either on demand", () => {
  assert.deepEqual(drawer({ ...base, formOpen: true }), { form: true, preview: false });
  assert.deepEqual(drawer({ ...base, previewOpen: true }), { form: false, preview: true });
  assert.deepEqual(drawer({ ...base, previewOpen: true, hasPreview: false }), { form: false, preview: false });
});

test("narrow below NARROW_PX, unknown width is not narrow", () => {
  assert.equal(isNarrow(NARROW_PX - 1), true);
  assert.equal(isNarrow(NARROW_PX), false);
  assert.equal(isNarrow(0), false);
});

test("views height: given as is (at least 120), 0 fits the window within bounds", () => {
  assert.equal(viewsHeight(700, 800), 700);
  assert.equal(viewsHeight(50, 800), 120);
  assert.equal(viewsHeight(0, 800), 440);
  assert.equal(viewsHeight(0, 300), AUTO_HEIGHT_MIN);
  assert.equal(viewsHeight(0, 3000), AUTO_HEIGHT_MAX);
  assert.equal(viewsHeight(Number.NaN, 800), 440);
});
