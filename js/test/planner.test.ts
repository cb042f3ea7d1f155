import assert from "node:assert/strict";
import { test } from "node:test";
import { planLayer, planViews, visiblePlanes, type TileLookup } from "../src/planner.ts";
import type { DatasetInfo, LayerInfo, LayerSettings, Plane } from "../src/protocol.ts";
import type { ViewGeometry } from "../src/tilemath.ts";

const layer = (name: string, category: "color" | "segmentation"): LayerInfo => ({
  name, category, element_class: "uint8", data_format: "zarr", bbox: { top_left: [0, 0, 0], size: [4096, 4096, 64] },
  mags: [[1, 1, 1], [2, 2, 1], [4, 4, 1], [8, 8, 1]], num_channels: 1, largest_segment_id: null,
  additional_axes: [], default_view: null,
});
const settings = (name: string, visible = true): LayerSettings => ({
  name, visible, opacity: 1, range: null, color: [255, 255, 255], channel: 0, axes: {},
});
const info: DatasetInfo = { name: "d", voxel_size: [1, 1, 1], unit: "nm", layers: [layer("seg", "segmentation"), layer("img", "color")] };
const geometry = (plane: Plane): ViewGeometry => ({ plane, width: 512, height: 512, position: [2048, 2048, 32], zoom: 1, voxelSize: [1, 1, 1] });
const lookup = (cached: Set<string>, pending = new Set<string>()): TileLookup => ({
  peek: (k) => (cached.has(k) ? {} : undefined), isPending: (k) => pending.has(k),
});

test("an empty cache: coarse fallback first, then the target tiles; not complete", () => {
  const plan = planLayer(geometry("xy"), info.layers[1]!, settings("img"), lookup(new Set()));
  assert.equal(plan.complete, false);
  assert.equal(plan.target, 0);
  assert.ok(plan.targetTiles.length >= 4);
  assert.ok(plan.fallbackTiles.length > 0);
  assert.deepEqual(plan.drawMags.at(-1), plan.target);
  assert.ok(plan.drawMags.length > 1, "coarser mags drawn under an incomplete target");
  for (const t of plan.targetTiles) assert.deepEqual(t.request.mag, [1, 1, 1]);
});

test("a cached view is complete: only the target mag is drawn and margin tiles are wanted", () => {
  const first = planLayer(geometry("xy"), info.layers[1]!, settings("img"), lookup(new Set()));
  const cached = new Set(first.targetTiles.map((t) => t.key));
  const plan = planLayer(geometry("xy"), info.layers[1]!, settings("img"), lookup(cached));
  assert.equal(plan.complete, true);
  assert.deepEqual(plan.drawMags, [plan.target]);
  assert.equal(plan.fallbackTiles.length, 0);
  assert.ok(plan.marginTiles.length > 0);
  assert.ok(plan.marginTiles.every((t) => !cached.has(t.key)));
});

test("planViews: visible planes, color under segmentation, hidden layers skipped, margin last", () => {
  const input = {
    info, settings: [settings("seg"), settings("img")], mode: "ortho" as const, active: "xy" as Plane,
    position: [2048, 2048, 32] as [number, number, number], stepDir: 0, geometry, cache: lookup(new Set()),
  };
  const out = planViews(input);
  assert.deepEqual([...out.plans.keys()], visiblePlanes("ortho"));
  for (const list of out.plans.values()) assert.deepEqual(list.map((p) => p.layer.name), ["img", "seg"]);
  assert.equal(out.complete, false);
  assert.ok(out.desired.length > 0);
  const single = planViews({ ...input, mode: "xz", settings: [settings("seg", false), settings("img")] });
  assert.deepEqual([...single.plans.keys()], ["xz"]);
  assert.deepEqual(single.plans.get("xz")!.map((p) => p.layer.name), ["img"]);
  // a slice step prefetches the next slice of the active view
  const stepped = planViews({ ...input, mode: "xy", stepDir: 1, settings: [settings("img")] });
  const still = planViews({ ...input, mode: "xy", stepDir: 0, settings: [settings("img")] });
  assert.ok(stepped.desired.length > still.desired.length);
  assert.equal(planViews({ ...input, info: null }).desired.length, 0);
});

test("awaitedTiles: target and fallback tiles are shown, uncached targets are missing", async () => {
  const { awaitedTiles } = await import("../src/planner.ts");
  const tile = (key: string) => ({ key, i: 0, j: 0, request: {} as never });
  const plans = new Map([["xy", [{ targetTiles: [tile("t1"), tile("t2")], fallbackTiles: [tile("f1")] }]]]) as never;
  const cached = new Set(["t1"]);
  const r = awaitedTiles(plans, { peek: (k: string) => (cached.has(k) ? {} : undefined), isPending: () => false });
  assert.deepEqual(r.shown.sort(), ["f1", "t1", "t2"]);
  assert.deepEqual(r.missing, ["t2"]);
});
