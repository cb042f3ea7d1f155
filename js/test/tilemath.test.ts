import assert from "node:assert/strict";
import { test } from "node:test";
import type { Vec3 } from "../src/protocol.ts";
import {
  PLANE_AXES, bboxAtMag, chooseMag, clampZoom, coarserMags, formatLength, panBy, pixelsPerVoxel,
  scaleBar, screenToVoxel, sliceIndex, tileKey, tileRegion, tileScreenRect, visibleTiles,
  voxelToScreen, zoomAt, type ViewGeometry,
} from "../src/tilemath.ts";

const geom = (over: Partial<ViewGeometry> = {}): ViewGeometry => ({
  plane: "xy", width: 1024, height: 768, position: [1000, 2000, 50], zoom: 1, voxelSize: [10, 10, 10], ...over,
});

test("plane axes follow WEBKNOSSOS (YZ shows z horizontally)", () => {
  assert.deepEqual(PLANE_AXES.xy, [0, 1, 2]);
  assert.deepEqual(PLANE_AXES.xz, [0, 2, 1]);
  assert.deepEqual(PLANE_AXES.yz, [2, 1, 0]);
});

test("screen <-> voxel round trip in every plane, anisotropic voxels", () => {
  for (const plane of ["xy", "xz", "yz"] as const) {
    const g = geom({ plane, zoom: 2.5, voxelSize: [11.24, 11.24, 28] });
    for (const [sx, sy] of [[0, 0], [512, 384], [1000.5, 3.25]] as const) {
      const p = screenToVoxel(g, sx, sy);
      const [bx, by] = voxelToScreen(g, p);
      assert.ok(Math.abs(bx - sx) < 1e-9 && Math.abs(by - sy) < 1e-9);
      // the normal axis stays at the position
      const w = PLANE_AXES[plane][2];
      assert.equal(p[w], g.position[w]);
    }
  }
  const g = geom();
  assert.deepEqual(screenToVoxel(g, 512, 384), [1000, 2000, 50]);
  assert.deepEqual(screenToVoxel(g, 522, 384), [1010, 2000, 50]);
});

test("anisotropic voxels: z voxels span more screen pixels", () => {
  const g = geom({ plane: "xz", voxelSize: [10, 10, 40], zoom: 1 });
  assert.equal(pixelsPerVoxel(g, 0), 1);
  assert.equal(pixelsPerVoxel(g, 2), 4);
});

test("pan moves the content with the pointer", () => {
  const g = geom({ zoom: 2 });
  const p = panBy(g, 100, -50);
  assert.deepEqual(p, [800, 2100, 50]);
});

test("zoom about the cursor keeps the voxel under it", () => {
  const g = geom({ plane: "yz", voxelSize: [4, 4, 8] });
  const before = screenToVoxel(g, 100, 700);
  const { position, zoom } = zoomAt(g, 100, 700, 2);
  assert.equal(zoom, 2);
  const after = screenToVoxel({ ...g, position, zoom }, 100, 700);
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(after[a]! - before[a]!) < 1e-9);
  assert.equal(clampZoom(0), 1);
  assert.ok(clampZoom(1e9) < 1e9);
});

test("mag choice gives about one voxel per screen pixel", () => {
  const mags: Vec3[] = [[1, 1, 1], [2, 2, 1], [4, 4, 2], [8, 8, 4]];
  const vs: Vec3 = [10, 10, 25];
  assert.equal(chooseMag(mags, "xy", 0.5, vs), 0);
  assert.equal(chooseMag(mags, "xy", 1, vs), 0);
  assert.equal(chooseMag(mags, "xy", 2, vs), 1);
  assert.equal(chooseMag(mags, "xy", 4, vs), 2);
  assert.equal(chooseMag(mags, "xy", 100, vs), 3);
  // XZ: the finer of the two axes decides
  assert.equal(chooseMag(mags, "xz", 2, vs), 1);
  assert.equal(chooseMag([], "xy", 1, vs), -1);
  // unsorted mags still give the finest when zoomed in
  assert.equal(chooseMag([[2, 2, 2], [1, 1, 1]], "xy", 0.25, [1, 1, 1]), 1);
});

test("coarser mags, finest first", () => {
  const mags: Vec3[] = [[1, 1, 1], [2, 2, 1], [4, 4, 2], [8, 8, 4]];
  assert.deepEqual(coarserMags(mags, 1, "xy"), [2, 3]);
  assert.deepEqual(coarserMags(mags, 3, "xy"), []);
  // xz: (2,2,1) -> area x*z = 2, coarser than (1,1,1)
  assert.deepEqual(coarserMags(mags, 0, "xz"), [1, 2, 3]);
});

test("slice index and bbox at a mag", () => {
  assert.equal(sliceIndex([0, 0, 9], "xy", [2, 2, 2]), 4);
  assert.equal(sliceIndex([7, 0, 9], "yz", [2, 2, 2]), 3);
  assert.deepEqual(bboxAtMag({ top_left: [3, 0, 0], size: [10, 4, 1] }, [2, 2, 2]), { lo: [1, 0, 0], hi: [7, 2, 1] });
});

test("visible tiles cover the view, center first, clipped to the box", () => {
  const bbox = { top_left: [0, 0, 0] as Vec3, size: [4096, 4096, 100] as Vec3 };
  const g = geom({ position: [2048, 2048, 50] });
  const tiles = visibleTiles(g, [1, 1, 1], 256, bbox);
  // 1024 x 768 px centered on a tile corner: 4 x 4 tiles (768/256 = 3 rows, +1 for offset)
  const is = new Set(tiles.map((t) => t.i));
  const js = new Set(tiles.map((t) => t.j));
  assert.deepEqual([...is].sort((a, b) => a - b), [6, 7, 8, 9]);
  assert.deepEqual([...js].sort((a, b) => a - b), [6, 7, 8, 9]);
  const first = tiles[0]!;
  assert.ok([7, 8].includes(first.i) && [7, 8].includes(first.j));
  // at mag 4 the same view needs a single tile
  assert.deepEqual(visibleTiles({ ...g, position: [2560, 2560, 50] }, [4, 4, 4], 256, bbox).map((t) => [t.i, t.j]), [[2, 2]]);
  // outside the box along the normal: nothing
  assert.deepEqual(visibleTiles(geom({ position: [0, 0, 100] }), [1, 1, 1], 256, bbox), []);
  // near the corner: no negative tiles
  const corner = visibleTiles(geom({ position: [0, 0, 0] }), [1, 1, 1], 256, bbox);
  assert.ok(corner.every((t) => t.i >= 0 && t.j >= 0));
  assert.equal(corner.length, 4); // 512 x 384 px inside the box -> 2 x 2 tiles
});

test("tile region clips at the bounding box like Python's tile_region", () => {
  const bbox = { top_left: [10, 0, 0] as Vec3, size: [500, 300, 7] as Vec3 };
  assert.deepEqual(tileRegion("xy", [1, 1, 1], 3, 0, 0, 256, bbox), { u0: 10, v0: 0, w: 246, h: 256 });
  assert.deepEqual(tileRegion("xy", [1, 1, 1], 3, 1, 1, 256, bbox), { u0: 0, v0: 0, w: 254, h: 44 });
  assert.deepEqual(tileRegion("xy", [2, 2, 1], 3, 0, 0, 256, bbox), { u0: 5, v0: 0, w: 250, h: 150 });
  assert.equal(tileRegion("xy", [1, 1, 1], 7, 0, 0, 256, bbox), null);
  assert.equal(tileRegion("xy", [1, 1, 1], 0, 2, 0, 256, bbox), null);
  assert.deepEqual(tileRegion("yz", [1, 1, 1], 20, 0, 0, 256, bbox), { u0: 0, v0: 0, w: 7, h: 256 });
});

test("tile screen rect matches voxelToScreen", () => {
  const g = geom({ plane: "xz", zoom: 0.5, voxelSize: [5, 5, 10] });
  const r = tileScreenRect(g, [2, 2, 2], 3, 1, 256, 0, 0, 256, 256);
  const [x, y] = voxelToScreen(g, [3 * 256 * 2, 0, 256 * 2]);
  assert.ok(Math.abs(r.x - x) < 1e-9 && Math.abs(r.y - y) < 1e-9);
  assert.equal(r.w, 256 * 2 * 2); // 2 px per mag-1 voxel, 2 voxels per mag-2 voxel
  assert.equal(r.h, 256 * 2 * 4);
});

test("tile keys differ by every component", () => {
  const base = tileKey("a", "xy", [1, 1, 1], 3, 0, 0, 0, {});
  assert.notEqual(base, tileKey("b", "xy", [1, 1, 1], 3, 0, 0, 0, {}));
  assert.notEqual(base, tileKey("a", "xz", [1, 1, 1], 3, 0, 0, 0, {}));
  assert.notEqual(base, tileKey("a", "xy", [2, 2, 1], 3, 0, 0, 0, {}));
  assert.notEqual(base, tileKey("a", "xy", [1, 1, 1], 4, 0, 0, 0, {}));
  assert.notEqual(base, tileKey("a", "xy", [1, 1, 1], 3, 1, 0, 0, {}));
  assert.notEqual(base, tileKey("a", "xy", [1, 1, 1], 3, 0, 0, 1, {}));
  assert.notEqual(base, tileKey("a", "xy", [1, 1, 1], 3, 0, 0, 0, { t: 1 }));
  assert.equal(tileKey("a", "xy", [1, 1, 1], 3, 0, 0, 0, { t: 1, c2: 0 }), tileKey("a", "xy", [1, 1, 1], 3, 0, 0, 0, { c2: 0, t: 1 }));
});

test("lengths and scale bars", () => {
  assert.equal(formatLength(1500, "nanometer"), "1.5 µm");
  assert.equal(formatLength(500, "nanometer"), "500 nm");
  assert.equal(formatLength(2, "micrometer"), "2 µm");
  assert.equal(formatLength(0.5, "nanometer"), "500 pm");
  assert.equal(formatLength(3, "parsec"), "3 parsec");
  const bar = scaleBar(11.24, 120, "nanometer");
  assert.equal(bar.value, 1000);
  assert.ok(Math.abs(bar.px - 1000 / 11.24) < 1e-9);
  assert.equal(bar.label, "1 µm");
  assert.equal(scaleBar(3, 100, "nanometer").value, 200);
  assert.equal(scaleBar(0, 100, "nanometer").px, 0);
});

test("stepSlicePosition steps along the plane's normal from the slice start", async () => {
  const { stepSlicePosition } = await import("../src/tilemath.ts");
  assert.deepEqual(stepSlicePosition([10.5, 20.5, 30.7], "xy", 1), [10.5, 20.5, 31]);
  assert.deepEqual(stepSlicePosition([10.5, 20.5, 30.7], "yz", -2), [8, 20.5, 30.7]);
  assert.deepEqual(stepSlicePosition([10.5, 20.5, 30.7], "xz", 1), [10.5, 21, 30.7]);
});
