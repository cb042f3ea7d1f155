import assert from "node:assert/strict";
import { test } from "node:test";
import { boxFromDrag, centerOf, makeAnnotation, readAnnotations, shapeInView } from "../src/annotations.ts";

test("new annotations have the shape Python keeps", () => {
  const a = makeAnnotation("line", [[1, 2, 3], [4, 5, 6]]);
  assert.match(a.id, /^[0-9a-f]{12}$/);
  assert.equal(a.type, "line");
  assert.equal(a.color, "#ffcc00");
  assert.equal(a.name, `line ${a.id.slice(0, 6)}`);
  assert.deepEqual(a.points, [[1, 2, 3], [4, 5, 6]]);
});

test("reading the trait skips malformed entries", () => {
  const got = readAnnotations([
    { id: "a", type: "point", points: [[1, 2, 3]], name: "p", color: "#ff0000" },
    { id: "b", type: "box", points: [[1, 2, 3]] },
    { id: "c", type: "circle", points: [[1, 2, 3]] },
    { id: "d", type: "line", points: [[1, 2, "x"], [1, 2, 3]] },
    null, 7,
  ]);
  assert.deepEqual(got.map((a) => a.id), ["a"]);
  assert.deepEqual(readAnnotations("nope"), []);
});

test("boxes drawn in a view are one voxel deep along its normal", () => {
  assert.deepEqual(boxFromDrag("xy", [10, 20, 5], [4, 30, 5]), [[4, 20, 5], [10, 30, 6]]);
  assert.deepEqual(boxFromDrag("yz", [7, 1, 2], [7, 9, 8]), [[7, 1, 2], [8, 9, 8]]);
});

test("what a view shows of each annotation", () => {
  const p = makeAnnotation("point", [[10, 10, 5]]);
  assert.equal(shapeInView(p, "xy", 5.7)?.kind, "dot");
  assert.equal(shapeInView(p, "xy", 9), null);
  assert.equal(shapeInView(p, "xz", 10)?.kind, "dot");
  const box = makeAnnotation("box", [[0, 0, 5], [10, 10, 6]]);
  assert.equal(shapeInView(box, "xy", 6)?.kind, "rect");
  assert.equal(shapeInView(box, "xy", 7), null);
  const line = makeAnnotation("line", [[0, 0, 0], [10, 10, 10]]);
  assert.equal(shapeInView(line, "xy", 5)?.kind, "segment");
  assert.equal(shapeInView(line, "xy", 20), null);
  assert.deepEqual(centerOf(box), [5, 5, 5.5]);
});
