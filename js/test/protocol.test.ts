import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DTYPE_SIZES, ENCODING_PNG_PLANES, ENCODING_RAW_PLANES, MSG_CANCEL, MSG_EXPLORE, MSG_RESULT, MSG_TILE, MSG_TILE_BATCH, MSG_TILES, TILE_SIZE, buildCredentials,
  isResult, isTileReply, missingCredentialFields,
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
