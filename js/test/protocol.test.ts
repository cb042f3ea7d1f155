import assert from "node:assert/strict";
import { test } from "node:test";
import fixtures from "./fixtures/protocol.json";
import {
  DTYPE_SIZES, ENCODING_PNG_PALETTE, ENCODING_PNG_PLANES, ENCODING_RAW_PLANES, MSG_CANCEL, MSG_EXPLORE, MSG_RESULT, MSG_TILE, MSG_TILE_BATCH, MSG_TILES, TILE_SIZE, buildCredentials,
  isResult, isTileReply, missingCredentialFields,
  type AdditionalAxis, type ClickMessage, type DatasetInfo, type LayerInfo, type LayerSettings, type Preview,
  type ResultMessage, type StatsMessage, type TileReplyError, type TileReplyOk, type TileRequest,
} from "../src/protocol.ts";

test("message names and constants match the Python side (widget/protocol.py)", () => {
  assert.equal(MSG_TILES, "tiles");
  assert.equal(MSG_CANCEL, "cancel");
  assert.equal(MSG_EXPLORE, "explore");
  assert.equal(MSG_TILE, "tile");
  assert.equal(MSG_RESULT, "result");
  assert.equal(MSG_TILE_BATCH, "tile_batch");
  assert.equal(TILE_SIZE, 256);
  assert.equal(ENCODING_PNG_PLANES, "png-planes");
  assert.equal(ENCODING_RAW_PLANES, "raw-planes");
  assert.equal(ENCODING_PNG_PALETTE, "png-palette");
  assert.equal(DTYPE_SIZES["uint64"], 8);
});

test("credentials from the form fields, as the CLI's JSON", () => {
  assert.equal(buildCredentials("none", { username: "x" }), null);
  assert.deepEqual(buildCredentials("http_basic", { username: " u ", password: " p w " }), {
    type: "http_basic", username: "u", password: " p w ",
  });
  assert.deepEqual(buildCredentials("http_bearer", { token: "t" }), { type: "http_bearer", token: "t" });
  assert.deepEqual(buildCredentials("s3", { access_key_id: "a", secret_access_key: "s", endpoint_url: "", region: "eu" }), {
    type: "s3", access_key_id: "a", secret_access_key: "s", region: "eu",
  });
  assert.deepEqual(buildCredentials("gcs", { service_account: "" }), { type: "gcs", token: "anon" });
  assert.deepEqual(buildCredentials("gcs", { service_account: '{"a":1}' }), { type: "gcs", service_account: '{"a":1}' });
  assert.deepEqual(missingCredentialFields("s3", { access_key_id: "a" }), ["secret_access_key"]);
  assert.deepEqual(missingCredentialFields("none", {}), []);
});

test("message guards", () => {
  assert.ok(isTileReply({ type: "tile", id: "a-1", ok: true }));
  assert.ok(!isTileReply({ type: "tile" }));
  assert.ok(!isTileReply(null));
  assert.ok(isResult({ type: "result", id: "x", request: "explore", ok: true }));
});

// Every key of each interface (optional ones too): `satisfies` makes typecheck fail when a
// key is missing here or unknown to the interface; the test below compares them with the
// payloads Python writes (js/test/fixtures/make_protocol_fixtures.py).
type Keys<T> = Record<keyof T, true>;
const TWIN_KEYS = {
  AdditionalAxis: { name: true, bounds: true, index: true } satisfies Keys<AdditionalAxis>,
  LayerInfo: {
    name: true, category: true, element_class: true, data_format: true, bbox: true, mags: true, num_channels: true,
    largest_segment_id: true, additional_axes: true, default_view: true, segments: true,
  } satisfies Keys<LayerInfo>,
  DatasetInfo: { name: true, voxel_size: true, unit: true, layers: true } satisfies Keys<DatasetInfo>,
  LayerSettings: {
    name: true, visible: true, opacity: true, range: true, color: true, channel: true, axes: true, colormap: true,
    invert: true, gamma: true, segments_shown: true, hidden_segments: true,
  } satisfies Keys<LayerSettings>,
  Preview: { datasource: true, staged: true, imported: true, reports: true } satisfies Keys<Preview>,
  TileRequest: {
    id: true, layer: true, plane: true, mag: true, slice: true, tile: true, size: true, channel: true, axes: true,
    format: true, range: true, color: true, prefetch: true,
  } satisfies Keys<TileRequest>,
  TileReplyOk: {
    type: true, id: true, ok: true, layer: true, encoding: true, dtype: true, w: true, h: true, u0: true, v0: true,
    ms: true, total_ms: true, meter: true, pan: true,
  } satisfies Keys<TileReplyOk>,
  TileReplyError: { type: true, id: true, ok: true, layer: true, error: true } satisfies Keys<TileReplyError>,
  ResultMessage: {
    type: true, id: true, request: true, ok: true, error: true, path: true, layers: true,
  } satisfies Keys<ResultMessage>,
  StatsMessage: { type: true, id: true, meters: true } satisfies Keys<StatsMessage>,
  ClickMessage: { type: true, position: true, view: true, modifiers: true } satisfies Keys<ClickMessage>,
};
const BBOX_KEYS = { top_left: true, size: true } satisfies Keys<LayerInfo["bbox"]>;

test("the payloads Python writes have exactly the keys of protocol.ts's interfaces", () => {
  const payloads = fixtures as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(payloads).sort(), Object.keys(TWIN_KEYS).sort());
  for (const [name, want] of Object.entries(TWIN_KEYS)) {
    assert.deepEqual(Object.keys(payloads[name] ?? {}).sort(), Object.keys(want).sort(), name);
  }
  assert.deepEqual(Object.keys(fixtures.LayerInfo.bbox).sort(), Object.keys(BBOX_KEYS).sort());
  const reply: unknown = fixtures.TileReplyOk;
  assert.ok(isTileReply(reply));
  assert.ok(isResult(fixtures.ResultMessage));
});
