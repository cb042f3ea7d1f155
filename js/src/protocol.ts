// Message shapes between the widget and Python.
// KEEP IN SYNC with src/wk_widget/widget/protocol.py (the documentation of every message is there).

export const PROTOCOL_VERSION = 1;
export const TILE_SIZE = 256;
export const MAX_TILES_PER_MESSAGE = 256;
export const STATE_DEBOUNCE_MS = 250;

// Browser -> Python
export const MSG_TILES = "tiles";
export const MSG_CANCEL = "cancel";
export const MSG_EXPLORE = "explore";
export const MSG_EDIT = "edit";
export const MSG_IMPORT = "import";
export const MSG_DISCARD = "discard";
export const MSG_EXPORT = "export";
export const MSG_STATS = "stats";
export const MSG_CLICK = "click";

// Python -> browser
export const MSG_TILE = "tile";
export const MSG_TILE_BATCH = "tile_batch";
export const MSG_RESULT = "result";

export type Plane = "xy" | "xz" | "yz";
export type ViewMode = Plane | "ortho";
export const PLANES: readonly Plane[] = ["xy", "xz", "yz"];
export const VIEW_MODES: readonly ViewMode[] = ["xy", "xz", "yz", "ortho"];

export type Vec3 = [number, number, number];

export const ENCODING_PNG_PLANES = "png-planes";
export const ENCODING_RAW_PLANES = "raw-planes";
export const ENCODING_PNG_PALETTE = "png-palette"; // u32 count, the ids, PNG planes of indices
export const ENCODING_PNG = "png";
export const ENCODING_WEBP = "webp";

export type CredentialType = "none" | "http_basic" | "http_bearer" | "s3" | "gcs";
export const CREDENTIAL_TYPES: readonly CredentialType[] = ["none", "http_basic", "http_bearer", "s3", "gcs"];
export type Category = "color" | "segmentation";
export const CATEGORIES: readonly Category[] = ["color", "segmentation"];
// Layer settings of the analysis tools (twins in src/wk_widget/widget/protocol.py).
export const COLORMAP_NAMES = ["grey", "tint", "viridis", "magma"] as const;
export const SEGMENT_MODE_NAMES = ["all", "selected", "all_but_hidden"] as const;
export const ANNOTATION_TYPE_NAMES = ["point", "line", "box"] as const;

/** A click (no drag) in a view; Python answers with on_click callbacks. */
export interface ClickMessage {
  type: "click";
  position: Vec3;
  view: Plane;
  modifiers: ("shift" | "ctrl" | "meta" | "alt")[];
}

export interface TileRequest {
  id: string;
  layer: string;
  plane: Plane;
  mag: Vec3;
  slice: number;
  tile: [number, number];
  size: number;
  channel: number;
  axes: Record<string, number>;
  format: "raw" | "png" | "webp";
  range?: [number, number]; // png/webp only: contrast
  color?: [number, number, number]; // png/webp only: tint
  prefetch?: boolean; // speculative (around the view): Python keeps only its slabs, not whole chunks
}

export interface TileReplyOk {
  type: "tile";
  id: string;
  ok: true;
  layer: string;
  encoding: string;
  dtype: string;
  w: number;
  h: number;
  u0: number;
  v0: number;
  ms?: number; // Python: read + encode
  total_ms?: number; // Python: request received -> reply sent
  meter?: { requests: number; bytes: number };
  pan?: { requests: number; bytes: number; cost: number }; // forecast: this whole plane at this zoom
}

export interface TileReplyError {
  type: "tile";
  id: string;
  ok: false;
  layer: string;
  error: string;
}

export type TileReply = TileReplyOk | TileReplyError;

export interface TileBatch {
  type: "tile_batch";
  tiles: (TileReply & { buffer: number })[];
}

export function isTileBatch(msg: unknown): msg is TileBatch {
  return typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === MSG_TILE_BATCH &&
    Array.isArray((msg as { tiles?: unknown }).tiles);
}

export interface ResultMessage {
  type: "result";
  id: string;
  request: string;
  ok: boolean;
  error?: string;
  path?: string;
  layers?: string[]; // explore / import / discard: the layers concerned
}

export interface StatsMessage {
  type: "stats";
  id: string;
  meters: Record<string, { requests: number; bytes: number }>;
}

// ---- synced traits (see src/wk_widget/widget/viewer.py; typed twins in widget/state.py) ----

export interface AdditionalAxis {
  name: string;
  bounds: [number, number];
  index: number;
}

export interface LayerInfo {
  name: string;
  category: Category;
  element_class: string;
  data_format: string;
  bbox: { top_left: Vec3; size: Vec3 };
  mags: Vec3[];
  num_channels: number;
  largest_segment_id: number | null;
  additional_axes: AdditionalAxis[];
  default_view: {
    color?: [number, number, number];
    intensityRange?: [number, number];
    alpha?: number;
    isDisabled?: boolean;
    isInverted?: boolean;
  } | null;
  // OME image-label colours and properties by segment id
  segments?: Record<string, { color?: number[]; properties?: Record<string, unknown> }> | null;
}

export interface DatasetInfo {
  name: string;
  voxel_size: Vec3;
  unit: string;
  layers: LayerInfo[];
}

export interface LayerSettings {
  name: string;
  visible: boolean;
  opacity: number; // 0..1
  range: [number, number] | null; // contrast (color layers); null = not known yet
  color: [number, number, number];
  channel: number;
  axes: Record<string, number>;
  // analysis settings (src/wk_widget/widget/analysis.py); absent in settings saved before them
  colormap?: (typeof COLORMAP_NAMES)[number];
  invert?: boolean;
  gamma?: number;
  segments_shown?: (typeof SEGMENT_MODE_NAMES)[number];
  hidden_segments?: number[];
}

export interface Preview {
  datasource: Record<string, unknown>;
  staged: string[];
  imported: boolean;
  reports?: ExploreReport[]; // the last exploration reports
}

/** What exploring one URI tried (formats, outcomes) — UriReport.to_json() in Python. */
export interface ExploreReport {
  uri: string;
  error: string | null;
  notes: string[];
  attempts: { format: string; outcome: string; message: string }[];
}

export interface WidgetModel {
  position: Vec3;
  zoom: number;
  plane: ViewMode;
  layer_settings: LayerSettings[];
  dataset_info: DatasetInfo | null;
  preview: Preview | null;
  busy: boolean;
  status: string;
  form_error: string;
  height: number;
  protocol_version: number;
  selected_segments: Record<string, number[]>;
  annotations: unknown[];
  browser_access?: "notebook" | "public" | "none";
  [key: string]: unknown;
}

export function isTileReply(msg: unknown): msg is TileReply {
  return typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === MSG_TILE &&
    typeof (msg as { id?: unknown }).id === "string";
}

export function isResult(msg: unknown): msg is ResultMessage {
  return typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === MSG_RESULT;
}

export function isStats(msg: unknown): msg is StatsMessage {
  return typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === MSG_STATS &&
    typeof (msg as { meters?: unknown }).meters === "object";
}

// Bytes per value of the dtypes a tile can carry (WEBKNOSSOS element class names).
export const DTYPE_SIZES: Record<string, number> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float: 4,
  uint64: 8, int64: 8, double: 8,
};

/** Credentials as the CLI's JSON, built from the form fields; null for "none". */
export function buildCredentials(
  type: CredentialType,
  fields: Record<string, string>,
): Record<string, unknown> | null {
  const get = (k: string): string => (fields[k] ?? "").trim();
  switch (type) {
    case "none":
      return null;
    case "http_basic":
      return { type, username: get("username"), password: fields["password"] ?? "" };
    case "http_bearer":
      return { type, token: get("token") };
    case "s3": {
      const out: Record<string, unknown> = {
        type,
        access_key_id: get("access_key_id"),
        secret_access_key: get("secret_access_key"),
      };
      if (get("endpoint_url")) out["endpoint_url"] = get("endpoint_url");
      if (get("region")) out["region"] = get("region");
      return out;
    }
    case "gcs": {
      const text = get("service_account");
      if (!text) return { type, token: "anon" };
      return { type, service_account: text };
    }
  }
}

/** Which fields a credential type needs (for validation before sending). */
export function missingCredentialFields(type: CredentialType, fields: Record<string, string>): string[] {
  const need: Record<CredentialType, string[]> = {
    none: [],
    http_basic: ["username", "password"],
    http_bearer: ["token"],
    s3: ["access_key_id", "secret_access_key"],
    gcs: [],
  };
  return need[type].filter((k) => !(fields[k] ?? "").trim());
}
