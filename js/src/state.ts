// Reading the synced traits into the controller's local view state (pure helpers).

import type { DatasetInfo, LayerSettings, Vec3, ViewMode } from "./protocol";
import { clampZoom } from "./tilemath";

/** The view traits, validated: a bad position is dropped (undefined), zoom clamped. */
export function readViewTraits(position: unknown, zoom: unknown, plane: unknown): { position?: Vec3; zoom: number; mode?: ViewMode } {
  const p = position;
  const ok = Array.isArray(p) && p.length === 3 && p.every((v) => Number.isFinite(v));
  const mode = plane === "xy" || plane === "xz" || plane === "yz" || plane === "ortho" ? plane : undefined;
  return { position: ok ? [p[0], p[1], p[2]] : undefined, zoom: clampZoom(Number(zoom)), mode };
}

/** A private copy of the layer settings trait (the controller edits it before syncing). */
export function copySettings(s: unknown): LayerSettings[] {
  return Array.isArray(s) ? (s as LayerSettings[]).map((x) => ({ ...x, axes: { ...(x.axes ?? {}) } })) : [];
}

/** What identifies a layer's tiles: when it changes, its cached tiles are stale. */
export function layerSignatures(info: DatasetInfo | null): Map<string, string> {
  const sigs = new Map<string, string>();
  for (const l of info?.layers ?? []) sigs.set(l.name, JSON.stringify([l.mags, l.bbox, l.element_class, l.num_channels, l.additional_axes]));
  return sigs;
}
