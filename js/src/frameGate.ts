// When a tile arrives: paint now, a little later, or not at all. Each paint is a whole frame
// (every layer composited, the overlay, then the page's paint and commit: 20-50 ms in a
// software-rendered browser on two busy cores), and the CPU it takes is the CPU the kernel
// and the decoder need to finish the view. So while a view loads, progressive paints come
// at most every `intervalMs`; the arrival that completes the view paints at once; tiles
// that no view shows (margin, next-slice prefetch) never paint, they only refresh the
// counters now and then.

export const PROGRESSIVE_PAINT_MS = 100;
export const COUNTER_REFRESH_MS = 250;

export type Arrival = "now" | "later" | "none";

export interface FrameGateHooks {
  paint: () => void; // schedule a frame (the caller coalesces to one per animation frame)
  refresh: () => void; // update readouts and counters without painting
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class FrameGate {
  private shown = new Set<string>(); // tiles the visible views draw or wait for
  private missing = new Set<string>(); // target tiles not cached at the last frame
  private lastFrame = -Infinity;
  private paintTimer: unknown = null;
  private refreshTimer: unknown = null;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly hooks: FrameGateHooks, private readonly intervalMs = PROGRESSIVE_PAINT_MS) {
    this.now = hooks.now ?? (() => performance.now());
    this.setTimer = hooks.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = hooks.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** After each frame: the keys the views drew or wait for, and the target keys missing. */
  framed(tiles: { shown: Iterable<string>; missing: Iterable<string> }): void {
    this.shown = new Set(tiles.shown);
    this.missing = new Set(tiles.missing);
    this.lastFrame = this.now();
    this.paintTimer = this.stop(this.paintTimer);
    this.refreshTimer = this.stop(this.refreshTimer); // a frame refreshes the counters too
  }

  /** What a tile's arrival asks for; acts on it (schedules the paint or the refresh). */
  arrived(key: string): Arrival {
    const decision = this.decide(key);
    if (decision === "now") {
      this.paintTimer = this.stop(this.paintTimer);
      this.hooks.paint();
    } else if (decision === "later") {
      this.paintTimer ??= this.setTimer(() => {
        this.paintTimer = null;
        this.hooks.paint();
      }, Math.max(0, this.lastFrame + this.intervalMs - this.now()));
    } else {
      this.refreshTimer ??= this.setTimer(() => {
        this.refreshTimer = null;
        this.hooks.refresh();
      }, COUNTER_REFRESH_MS);
    }
    return decision;
  }

  destroy(): void {
    this.paintTimer = this.stop(this.paintTimer);
    this.refreshTimer = this.stop(this.refreshTimer);
  }

  private decide(key: string): Arrival {
    if (!this.shown.has(key)) return "none";
    this.missing.delete(key);
    if (this.missing.size === 0) return "now";
    return this.now() - this.lastFrame >= this.intervalMs ? "now" : "later";
  }

  /** Cancels a pending timer; returns the new (empty) handle. */
  private stop(handle: unknown): null {
    if (handle !== null) this.clearTimer(handle);
    return null;
  }
}
