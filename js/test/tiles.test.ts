import assert from "node:assert/strict";
import { test } from "node:test";
import type { TileRequest } from "../src/protocol.ts";
import { TileManager, type DesiredTile } from "../src/tiles.ts";

function desired(n: number, layer = "color"): DesiredTile[] {
  return Array.from({ length: n }, (_, k) => ({
    key: `${layer}-${k}`,
    request: { layer, plane: "xy", mag: [1, 1, 1], slice: 0, tile: [k, 0], size: 256, channel: 0, axes: {}, format: "raw" },
  }));
}

function setup(maxInFlight = 4) {
  const sent: { type: string; requests?: TileRequest[]; ids?: string[] }[] = [];
  let now = 0;
  const tiles: string[] = [];
  const mgr = new TileManager(
    (m) => sent.push(m as never),
    async (reply) => ({ dtype: reply.dtype, w: reply.w, h: reply.h, values: new Uint8Array(reply.w * reply.h), words64: false }),
    { maxInFlight, clientId: "t", now: () => now, onTile: (t) => tiles.push(t.key), retryAfterMs: 1000 },
  );
  return { mgr, sent, tiles, tick: (ms: number) => { now += ms; } };
}

const ok = (id: string, w = 2, h = 2) => ({ type: "tile", id, ok: true, layer: "color", encoding: "png-planes", dtype: "uint8", w, h, u0: 0, v0: 0, meter: { requests: 3, bytes: 999 } });
const flush = () => new Promise((r) => setTimeout(r, 0));

test("sends at most maxInFlight requests, in priority order, batched", () => {
  const { mgr, sent } = setup(4);
  mgr.update(desired(10));
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.type, "tiles");
  assert.deepEqual(sent[0]!.requests!.map((r) => r.tile[0]), [0, 1, 2, 3]);
  assert.deepEqual(sent[0]!.requests!.map((r) => r.id), ["t-1", "t-2", "t-3", "t-4"]);
  assert.equal(mgr.inFlight, 4);
  assert.equal(mgr.queued, 6);
  // the same wish again sends nothing new
  mgr.update(desired(10));
  assert.equal(sent.length, 1);
});

test("replies fill the cache and free slots for the next tiles", async () => {
  const { mgr, sent, tiles } = setup(2);
  mgr.update(desired(3));
  assert.ok(mgr.handleMessage(ok("t-1"), [new ArrayBuffer(5)]));
  await flush();
  assert.deepEqual(tiles, ["color-0"]);
  assert.equal(mgr.get("color-0")!.w, 2);
  assert.deepEqual(sent.at(-1)!.requests!.map((r) => r.tile[0]), [2]);
  const m = mgr.meter("color");
  assert.equal(m.received, 1);
  assert.equal(m.bytes, 5);
  assert.equal(m.remoteRequests, 3);
  assert.equal(m.remoteBytes, 999);
  // unknown ids (another view's, or cancelled) are ignored
  assert.equal(mgr.handleMessage(ok("zz-9"), []), false);
  assert.equal(mgr.handleMessage({ type: "result" }, []), false);
});

test("stale requests are cancelled by id", () => {
  const { mgr, sent } = setup(4);
  mgr.update(desired(4));
  mgr.update(desired(2));
  const cancel = sent.find((m) => m.type === "cancel")!;
  assert.deepEqual(cancel.ids, ["t-3", "t-4"]);
  assert.equal(mgr.inFlight, 2);
  assert.equal(mgr.meter("color").cancelled, 2);
  assert.equal(mgr.counters.cancelled, 2);
  // a late reply for a cancelled id is dropped
  assert.equal(mgr.handleMessage(ok("t-3"), [new ArrayBuffer(4)]), false);
});

test("empty tiles are cached without decoding; errors back off and retry", async () => {
  const errors: string[] = [];
  const sent: { type: string; requests?: TileRequest[] }[] = [];
  let now = 0;
  const mgr = new TileManager((m) => sent.push(m as never), async () => { throw new Error("x"); }, {
    clientId: "t", now: () => now, retryAfterMs: 1000, onError: (_l, e) => errors.push(e),
  });
  mgr.update(desired(2));
  mgr.handleMessage({ ...ok("t-1", 0, 0) }, []);
  assert.equal(mgr.get("color-0")!.data, null);
  mgr.handleMessage({ type: "tile", id: "t-2", ok: false, layer: "color", error: "boom: 403" }, []);
  assert.deepEqual(errors, ["boom: 403"]);
  assert.equal(mgr.meter("color").lastError, "boom: 403");
  mgr.update(desired(2));
  assert.equal(sent.length, 1); // still backing off
  now += 1500;
  mgr.update(desired(2));
  assert.deepEqual(sent.at(-1)!.requests!.map((r) => r.id), ["t-3"]);
  // a decode failure counts as an error too
  mgr.handleMessage(ok("t-3"), [new ArrayBuffer(3)]);
  await flush();
  assert.equal(errors.length, 2);
  assert.match(errors[1]!, /cannot decode/);
});

test("reset cancels everything and forgets the cache", async () => {
  const { mgr, sent } = setup(4);
  mgr.update(desired(3));
  mgr.handleMessage(ok("t-1"), [new ArrayBuffer(1)]);
  await flush();
  mgr.reset();
  assert.deepEqual(sent.at(-1), { type: "cancel", ids: ["t-2", "t-3"] });
  assert.equal(mgr.cache.size, 0);
  assert.equal(mgr.inFlight, 0);
});

test("timed out requests are cancelled and retried later", () => {
  const { mgr, sent, tick } = setup(4);
  mgr.update(desired(1));
  tick(200_000);
  mgr.update(desired(1));
  assert.deepEqual(sent[1], { type: "cancel", ids: ["t-1"] });
});

test("tile batches: one message, several tiles and buffers", async () => {
  const { mgr, tiles } = setup(4);
  mgr.update(desired(3));
  const batch = {
    type: "tile_batch",
    tiles: [
      { ...ok("t-2"), buffer: 1 },
      { ...ok("t-1"), buffer: 0 },
      { ...ok("t-3", 0, 0), buffer: -1 },
      { ...ok("other-1"), buffer: 0 },
    ],
  };
  assert.ok(mgr.handleMessage(batch, [new ArrayBuffer(7), new ArrayBuffer(9)]));
  await flush();
  assert.deepEqual(new Set(tiles), new Set(["color-0", "color-1", "color-2"]));
  assert.equal(mgr.get("color-1")!.bytes, 9);
  assert.equal(mgr.get("color-0")!.bytes, 7);
  assert.equal(mgr.get("color-2")!.data, null);
  assert.equal(mgr.handleMessage({ type: "tile_batch", tiles: [{ ...ok("nobody"), buffer: 0 }] }, []), false);
});
