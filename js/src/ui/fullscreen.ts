// Full-screen toggle for the widget. Uses the Fullscreen API where the page allows it;
// where it does not (an iframe without allowfullscreen, e.g. some editors' webviews), the
// widget covers the window instead (CSS class wk-pseudo-full). Escape leaves either.

import { h } from "../dom";

export class FullscreenToggle {
  readonly el: HTMLButtonElement;
  private pseudo = false;
  private readonly cleanup: (() => void)[] = [];

  constructor(private readonly target: HTMLElement, private readonly onChange: (full: boolean) => void) {
    this.el = h("button", {
      testid: "wk-fullscreen", text: "Full screen", title: "full screen (Esc leaves)", className: "wk-toggle",
      attrs: { type: "button", "aria-pressed": "false", "aria-label": "full screen" },
      on: { click: () => this.toggle() },
    });
    const changed = (): void => this.sync();
    document.addEventListener("fullscreenchange", changed);
    this.cleanup.push(() => document.removeEventListener("fullscreenchange", changed));
    const key = (e: KeyboardEvent): void => {
      if (e.key === "Escape" && this.pseudo) this.setPseudo(false);
    };
    target.addEventListener("keydown", key);
    this.cleanup.push(() => target.removeEventListener("keydown", key));
  }

  get active(): boolean {
    return this.pseudo || document.fullscreenElement === this.target;
  }

  destroy(): void {
    if (this.pseudo) this.setPseudo(false);
    if (document.fullscreenElement === this.target) void document.exitFullscreen?.().catch(() => undefined);
    for (const fn of this.cleanup) fn();
  }

  toggle(): void {
    if (this.pseudo) {
      this.setPseudo(false);
    } else if (document.fullscreenElement === this.target) {
      void document.exitFullscreen().catch(() => undefined);
    } else if (document.fullscreenEnabled && typeof this.target.requestFullscreen === "function") {
      this.target.requestFullscreen().catch(() => this.setPseudo(true));
    } else {
      this.setPseudo(true);
    }
  }

  private setPseudo(on: boolean): void {
    this.pseudo = on;
    this.target.classList.toggle("wk-pseudo-full", on);
    this.sync();
  }

  private sync(): void {
    const full = this.active;
    this.target.classList.toggle("wk-full", full);
    this.el.setAttribute("aria-pressed", full ? "true" : "false");
    this.target.dataset["fullscreen"] = full ? "1" : "0";
    this.onChange(full);
  }
}
