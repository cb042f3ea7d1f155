// Annotations: points, lines and axis-aligned boxes in mag-1 voxels, kept in the synced
// `annotations` trait (src/wk_widget/widget/annotations.py validates the same shape).

import type { Plane, Vec3 } from "./protocol";
import { PLANE_AXES } from "./tilemath";

export type AnnotationType = "point" | "line" | "box";
export const ANNOTATION_TYPES: readonly AnnotationType[] = ["point", "line", "box"];
export const DEFAULT_ANNOTATION_COLOR = "#ffcc00";
export const POINTS_OF: Record<AnnotationType, number> = { point: 1, line: 2, box: 2 };

export interface Annotation {
  id: string;
  type: AnnotationType;
  points: Vec3[];
  name: string;
  color: string;
}

export function newId(): string {
  let s = "";
  for (let k = 0; k < 12; k++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/** A new annotation in the canonical form Python keeps (so the trait does not bounce). */
export function makeAnnotation(type: AnnotationType, points: Vec3[], color = DEFAULT_ANNOTATION_COLOR, id = newId()): Annotation {
  return { id, type, points: points.map((p) => [p[0], p[1], p[2]] as Vec3), name: `${type} ${id.slice(0, 6)}`, color };
}

/** Entries of the trait that have the right shape (others are skipped, never thrown on). */
export function readAnnotations(value: unknown): Annotation[] {
  if (!Array.isArray(value)) return [];
  const out: Annotation[] = [];
  for (const x of value) {
    if (typeof x !== "object" || x === null) continue;
    const a = x as Record<string, unknown>;
    const type = a["type"];
    if (type !== "point" && type !== "line" && type !== "box") continue;
    const pts = a["points"];
    if (!Array.isArray(pts) || pts.length !== POINTS_OF[type]) continue;
    if (!pts.every((p) => Array.isArray(p) && p.length === 3 && p.every((c) => typeof c === "number" && Number.isFinite(c)))) continue;
    out.push({
      id: String(a["id"] ?? ""), type, points: pts.map((p) => [p[0], p[1], p[2]] as Vec3),
      name: String(a["name"] ?? type), color: typeof a["color"] === "string" ? a["color"] : DEFAULT_ANNOTATION_COLOR,
    });
  }
  return out;
}

/** The corner [lo, hi] of a box from two opposite corners. */
export function boxBounds(a: Vec3, b: Vec3): [Vec3, Vec3] {
  return [[Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.min(a[2], b[2])], [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.max(a[2], b[2])]];
}

/** The two corners of a box drawn in a view from corner `a` to `b` on one slice: one voxel
 * deep along the view's normal (WEBKNOSSOS-like), so that it is a 3-D box. */
export function boxFromDrag(plane: Plane, a: Vec3, b: Vec3): [Vec3, Vec3] {
  const w = PLANE_AXES[plane][2];
  const [lo, hi] = boxBounds(a, b);
  hi[w] = lo[w] + 1;
  return [lo, hi];
}

export type Shape =
  | { kind: "dot"; p: Vec3; near: number } // near: 1 on the slice, less farther away
  | { kind: "segment"; a: Vec3; b: Vec3 }
  | { kind: "rect"; lo: Vec3; hi: Vec3 };

/** What of an annotation a view at slice `w0` (mag-1 voxel along the normal) shows. */
export function shapeInView(a: Annotation, plane: Plane, w0: number, depth = 2): Shape | null {
  const w = PLANE_AXES[plane][2];
  const here = Math.floor(w0);
  const pts = a.points;
  if (a.type === "point") {
    const d = Math.abs(Math.floor(pts[0]![w]) - here);
    return d <= depth ? { kind: "dot", p: pts[0]!, near: 1 - d / (depth + 1) } : null;
  }
  if (a.type === "line") {
    const lo = Math.min(pts[0]![w], pts[1]![w]);
    const hi = Math.max(pts[0]![w], pts[1]![w]);
    return here >= Math.floor(lo) - depth && here <= Math.floor(hi) + depth ? { kind: "segment", a: pts[0]!, b: pts[1]! } : null;
  }
  const [lo, hi] = boxBounds(pts[0]!, pts[1]!);
  return here >= Math.floor(lo[w]) && here <= Math.floor(hi[w]) ? { kind: "rect", lo, hi } : null;
}

/** Where a view should go to show an annotation: its centre. */
export function centerOf(a: Annotation): Vec3 {
  const n = a.points.length;
  return [0, 1, 2].map((k) => a.points.reduce((s, p) => s + p[k]!, 0) / n) as Vec3;
}
