// The tile pipeline without the DOM: which tiles to ask Python for, in which order, how
// many at once, which to cancel, and a byte-bounded LRU cache of decoded tiles.

import { LRU } from "./lru";
import {
  MAX_TILES_PER_MESSAGE, MSG_CANCEL, MSG_TILES, isTileBatch, isTileReply,
  type TileReplyOk, type TileRequest,
} from "./protocol";
import type { TileValues } from "./png";

export interface DesiredTile {
  key: string;
  request: Omit<TileRequest, "id">;
}

export interface CachedTile {
  key: string;
  layer: string;
  u0: number;
  v0: number;
  w: number;
  h: number;
  data: TileValues | null; // null: the tile is empty (outside the data)
  bytes: number; // bytes received for it
  receivedAt: number;
}

export interface LayerMeter {
  requested: number; // tile requests sent
  received: number; // tiles received
  cancelled: number;
  errors: number;
  bytes: number; // encoded tile bytes received
  remoteRequests: number; // what Python's reads cost the source (layer.meter)
  remoteBytes: number;
  lastError: string;
  pan?: { requests: number; bytes: number; cost: number }; // Python's forecast for the whole plane
}

export type Send = (content: unknown, buffers?: ArrayBuffer[]) => void;
export type DecodeTile = (reply: TileReplyOk, buffer: Uint8Array) => Promise<TileValues>;

export interface TileManagerOptions {
  maxInFlight?: number;
  cacheBytes?: number;
  clientId?: string;
  retryAfterMs?: number;
  timeoutMs?: number;
  now?: () => number;
  onTile?: (tile: CachedTile) => void;
  onError?: (layer: string, error: string) => void;
}

interface InFlight {
  id: string;
  key: string;
  layer: string;
  sentAt: number;
}

function newMeter(): LayerMeter {
  return { requested: 0, received: 0, cancelled: 0, errors: 0, bytes: 0, remoteRequests: 0, remoteBytes: 0, lastError: "" };
}

export class TileManager {
  readonly cache: LRU<string, CachedTile>;
  readonly meters = new Map<string, LayerMeter>();
  readonly clientId: string;
  counters = { requested: 0, received: 0, cancelled: 0, errors: 0, messages: 0 };
  /** Timing of the last tiles (ms): request -> reply, reply -> decoded, Python's own time. */
  timing = { rttLast: 0, rttMax: 0, rttSum: 0, decodeSum: 0, serverSum: 0, totalSum: 0, n: 0 };

  private readonly inflightByKey = new Map<string, InFlight>();
  private readonly inflightById = new Map<string, InFlight>();
  private readonly decoding = new Set<string>();
  private readonly failed = new Map<string, number>();
  private desired: DesiredTile[] = [];
  private seq = 0;
  private generation = 0;
  private readonly opts: Required<Omit<TileManagerOptions, "onTile" | "onError" | "clientId">>;

  constructor(
    private readonly send: Send,
    private readonly decode: DecodeTile,
    private readonly options: TileManagerOptions = {},
  ) {
    this.clientId = options.clientId ?? Math.random().toString(36).slice(2, 10);
    this.opts = {
      maxInFlight: options.maxInFlight ?? 64,
      cacheBytes: options.cacheBytes ?? 512 * 1024 * 1024,
      retryAfterMs: options.retryAfterMs ?? 10_000,
      timeoutMs: options.timeoutMs ?? 120_000,
      now: options.now ?? (() => (typeof performance !== "undefined" ? performance.now() : Date.now())),
    };
    this.cache = new LRU<string, CachedTile>(this.opts.cacheBytes);
  }

  get inFlight(): number {
    return this.inflightByKey.size + this.decoding.size;
  }

  /** Tiles wanted but neither cached nor on their way. */
  get queued(): number {
    let n = 0;
    for (const d of this.desired) if (this.isMissing(d.key)) n++;
    return n;
  }

  meter(layer: string): LayerMeter {
    let m = this.meters.get(layer);
    if (!m) {
      m = newMeter();
      this.meters.set(layer, m);
    }
    return m;
  }

  get(key: string): CachedTile | undefined {
    return this.cache.get(key);
  }

  peek(key: string): CachedTile | undefined {
    return this.cache.peek(key);
  }

  isPending(key: string): boolean {
    return this.inflightByKey.has(key) || this.decoding.has(key);
  }

  private isMissing(key: string): boolean {
    return !this.cache.has(key) && !this.isPending(key) && !this.recentlyFailed(key);
  }

  private recentlyFailed(key: string): boolean {
    const at = this.failed.get(key);
    if (at === undefined) return false;
    if (this.opts.now() - at > this.opts.retryAfterMs) {
      this.failed.delete(key);
      return false;
    }
    return true;
  }

  /**
   * The tiles the views need now, most important first. Cancels what is in flight and no
   * longer wanted, then sends as many new requests as there are free slots.
   */
  update(desired: DesiredTile[]): void {
    this.desired = desired;
    const wanted = new Set(desired.map((d) => d.key));
    const now = this.opts.now();
    const cancel: string[] = [];
    for (const f of [...this.inflightByKey.values()]) {
      const timedOut = now - f.sentAt > this.opts.timeoutMs;
      if (!wanted.has(f.key) || timedOut) {
        cancel.push(f.id);
        this.inflightByKey.delete(f.key);
        this.inflightById.delete(f.id);
        this.meter(f.layer).cancelled++;
        this.counters.cancelled++;
        if (timedOut) this.failed.set(f.key, now);
      }
    }
    if (cancel.length > 0) this.send({ type: MSG_CANCEL, ids: cancel });
    this.pump();
  }

  /** Send requests for missing desired tiles while slots are free. */
  pump(): void {
    const free = this.opts.maxInFlight - this.inflightByKey.size;
    if (free <= 0) return;
    const batch: TileRequest[] = [];
    const now = this.opts.now();
    for (const d of this.desired) {
      if (batch.length >= free || batch.length >= MAX_TILES_PER_MESSAGE) break;
      if (!this.isMissing(d.key)) continue;
      const id = `${this.clientId}-${++this.seq}`;
      const f: InFlight = { id, key: d.key, layer: d.request.layer, sentAt: now };
      this.inflightByKey.set(d.key, f);
      this.inflightById.set(id, f);
      batch.push({ ...d.request, id });
      this.meter(d.request.layer).requested++;
      this.counters.requested++;
    }
    if (batch.length > 0) {
      this.counters.messages++;
      this.send({ type: MSG_TILES, requests: batch });
    }
  }

  /** Handle a custom message from Python; returns true when it held one of our tiles. */
  handleMessage(msg: unknown, buffers: ReadonlyArray<DataView | ArrayBuffer>): boolean {
    if (isTileBatch(msg)) {
      let ours = false;
      for (const tile of msg.tiles) {
        const buf = tile.buffer >= 0 ? buffers[tile.buffer] : undefined;
        ours = this.handleTile(tile, buf === undefined ? [] : [buf]) || ours;
      }
      return ours;
    }
    return this.handleTile(msg, buffers);
  }

  private handleTile(msg: unknown, buffers: ReadonlyArray<DataView | ArrayBuffer>): boolean {
    if (!isTileReply(msg)) return false;
    const f = this.inflightById.get(msg.id);
    if (!f) return false; // cancelled, timed out, or another view's request
    this.inflightById.delete(msg.id);
    this.inflightByKey.delete(f.key);
    const meter = this.meter(f.layer);
    const receivedAt = this.opts.now();
    if (!msg.ok) {
      meter.errors++;
      meter.lastError = msg.error;
      this.counters.errors++;
      this.failed.set(f.key, this.opts.now());
      this.options.onError?.(f.layer, msg.error);
      this.pump();
      return true;
    }
    if (msg.meter) {
      meter.remoteRequests = msg.meter.requests;
      meter.remoteBytes = msg.meter.bytes;
    }
    if (msg.pan) meter.pan = msg.pan;
    const first = buffers[0];
    const bytes = first === undefined ? new Uint8Array(0)
      : first instanceof ArrayBuffer ? new Uint8Array(first)
      : new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
    meter.received++;
    meter.bytes += bytes.byteLength;
    this.counters.received++;
    const base = { key: f.key, layer: f.layer, u0: msg.u0, v0: msg.v0, w: msg.w, h: msg.h, bytes: bytes.byteLength };
    if (msg.w * msg.h === 0 || bytes.byteLength === 0) {
      this.store({ ...base, data: null, receivedAt: this.opts.now() });
      this.pump();
      return true;
    }
    this.decoding.add(f.key);
    this.pump();
    const generation = this.generation;
    this.decode(msg, bytes).then(
      (data) => {
        if (generation !== this.generation) return;
        this.decoding.delete(f.key);
        const t = this.timing;
        t.rttLast = receivedAt - f.sentAt;
        t.rttMax = Math.max(t.rttMax, t.rttLast);
        t.rttSum += t.rttLast;
        t.decodeSum += this.opts.now() - receivedAt;
        t.serverSum += msg.ms ?? 0;
        t.totalSum += msg.total_ms ?? 0;
        t.n++;
        this.store({ ...base, data, receivedAt: this.opts.now() });
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.decoding.delete(f.key);
        meter.errors++;
        meter.lastError = `cannot decode tile: ${String(err)}`;
        this.counters.errors++;
        this.failed.set(f.key, this.opts.now());
        this.options.onError?.(f.layer, meter.lastError);
        this.pump();
      },
    );
    return true;
  }

  /** Update remote meters from a `stats` reply. */
  setRemoteMeters(meters: Record<string, { requests: number; bytes: number }>): void {
    for (const [layer, m] of Object.entries(meters)) {
      const meter = this.meter(layer);
      meter.remoteRequests = m.requests;
      meter.remoteBytes = m.bytes;
    }
  }

  private store(tile: CachedTile): void {
    const size = tile.data ? tile.data.values.byteLength + 256 : 256;
    this.cache.set(tile.key, tile, size);
    this.options.onTile?.(tile);
  }

  /** Forget everything (new dataset). Cancels what is in flight. */
  reset(): void {
    const ids = [...this.inflightById.keys()];
    if (ids.length > 0) this.send({ type: MSG_CANCEL, ids });
    this.generation++;
    this.inflightById.clear();
    this.inflightByKey.clear();
    this.decoding.clear();
    this.failed.clear();
    this.desired = [];
    this.cache.clear();
    this.meters.clear();
  }

  /** Drop cached tiles of one layer (e.g. its data changed). */
  dropLayer(layer: string): void {
    for (const key of [...this.cache.keys()]) if (this.cache.peek(key)?.layer === layer) this.cache.delete(key);
    this.meters.delete(layer);
  }
}
