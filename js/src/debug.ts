// Instrumentation for the browser tests (tests/e2e): frame counters mirrored on the root's
// data-* attributes and the `__wk` API on the widget's elements. Names are relied on by e2e.

import { setData } from "./dom";
import { MSG_STATS, type LayerSettings, type Plane, type Vec3, type ViewMode } from "./protocol";
import type { TileManager } from "./tiles";

/** Counters of the frame loop (generations and timestamps in performance.now() ms). */
export class FrameStats {
  viewGen = 0;
  completeGen = -1;
  completeAt = 0;
  tilesDrawn = 0;
  paints = 0;
  lastPaint = 0;
  infoGen = 0;
  firstTileGen = -1;
  firstTileAt = 0;
  infoAt = 0;
  frameMs = 0;
  frameMsMax = 0;
  complete = false; // every target tile drawn in the last frame

  /** Account a painted frame that drew `drawn` target tiles. */
  painted(drawn: number, complete: boolean, drewAny: boolean): void {
    this.paints++;
    this.complete = complete;
    this.lastPaint = performance.now();
    if (complete && this.completeGen !== this.viewGen) {
      this.completeGen = this.viewGen;
      this.completeAt = this.lastPaint;
    }
    this.tilesDrawn += drawn;
    if (drewAny && this.firstTileGen !== this.infoGen) {
      this.firstTileGen = this.infoGen;
      this.firstTileAt = this.lastPaint;
    }
  }

  finished(start: number): void {
    this.frameMs = performance.now() - start;
    this.frameMsMax = Math.max(this.frameMsMax, this.frameMs);
  }
}

type DebugTiles = Pick<TileManager, "counters" | "timing" | "inFlight" | "queued" | "cache" | "clientId">;

export function updateDebug(root: HTMLElement, st: FrameStats, tm: DebugTiles, complete: boolean): void {
  const c = tm.counters;
  setData(root, "tilesRequested", String(c.requested));
  setData(root, "tilesReceived", String(c.received));
  setData(root, "tilesCancelled", String(c.cancelled));
  setData(root, "tilesErrors", String(c.errors));
  setData(root, "tilesInflight", String(tm.inFlight));
  setData(root, "tilesQueued", String(tm.queued));
  setData(root, "tilesDrawn", String(st.tilesDrawn));
  setData(root, "tilesCached", String(tm.cache.size));
  setData(root, "paints", String(st.paints));
  setData(root, "lastPaint", st.lastPaint.toFixed(1));
  setData(root, "viewGen", String(st.viewGen));
  setData(root, "complete", complete && st.completeGen === st.viewGen ? "1" : "0");
  setData(root, "completeGen", String(st.completeGen));
  setData(root, "completeAt", st.completeAt.toFixed(1));
  setData(root, "frameMs", st.frameMs.toFixed(1));
  setData(root, "frameMsMax", st.frameMsMax.toFixed(1));
  setData(root, "infoGen", String(st.infoGen));
  setData(root, "infoAt", st.infoAt.toFixed(1));
  setData(root, "firstTileGen", String(st.firstTileGen));
  setData(root, "firstTileAt", st.firstTileAt.toFixed(1));
}

/** What the debug API reads and drives (implemented by the controller). */
export interface DebugHost {
  readonly stats: FrameStats;
  readonly tm: DebugTiles;
  view(): { position: Vec3; zoom: number; mode: ViewMode; active: Plane; settings: LayerSettings[] };
  setView(position: Vec3, zoom?: number): void;
  setMode(mode: ViewMode): void;
  hoverAt(plane: Plane, sx: number, sy: number): void;
  analysis(): Record<string, unknown>;
  screenOf(plane: Plane, voxel: Vec3): [number, number];
  valueAt(name: string, plane: Plane, voxel: Vec3): string | null;
  send(content: Record<string, unknown>): void;
  clearCaches(): void;
}

export function debugApi(host: DebugHost) {
  const { stats: st, tm } = host;
  return {
    state: () => ({
      ...host.view(), position: [...host.view().position],
      counters: { ...tm.counters }, timing: { ...tm.timing }, inFlight: tm.inFlight,
      queued: tm.queued, cached: tm.cache.size, viewGen: st.viewGen,
      completeGen: st.completeGen, completeAt: st.completeAt, lastPaint: st.lastPaint,
      frameMs: st.frameMs, frameMsMax: st.frameMsMax, paints: st.paints,
    }),
    setView: (position: Vec3, zoom?: number) => host.setView(position, zoom),
    setMode: (mode: ViewMode) => host.setMode(mode),
    hoverAt: (plane: Plane, sx: number, sy: number) => host.hoverAt(plane, sx, sy),
    analysis: () => host.analysis(),
    screenOf: (plane: Plane, voxel: Vec3) => host.screenOf(plane, voxel),
    valueAt: (name: string, plane: Plane, voxel: Vec3) => host.valueAt(name, plane, voxel),
    requestStats: () => host.send({ type: MSG_STATS, id: `${tm.clientId}-stats` }),
    resetTiming: () => {
      st.frameMsMax = 0;
      tm.timing = { rttLast: 0, rttMax: 0, rttSum: 0, decodeSum: 0, serverSum: 0, totalSum: 0, n: 0 };
    },
    // empties the browser's caches; the view is not refetched until it changes (or the
    // next frame), so that a setView right after it measures its own tiles only
    clearCache: () => host.clearCaches(),
  };
}
