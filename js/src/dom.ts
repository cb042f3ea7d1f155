// Tiny DOM helpers (no framework; the widget must work in every Jupyter front end).

type Child = Node | string | number | null | undefined | false;

export interface Props {
  className?: string;
  testid?: string;
  text?: string;
  title?: string;
  style?: string;
  attrs?: Record<string, string>;
  dataset?: Record<string, string>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, props: Props = {}, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.testid) el.dataset["testid"] = props.testid;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title) el.title = props.title;
  // CSSOM, not a style attribute: a strict Content-Security-Policy (VS Code's webviews)
  // blocks style attributes but not this
  if (props.style) el.style.cssText = props.style;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  for (const [k, v] of Object.entries(props.dataset ?? {})) el.dataset[k] = v;
  for (const [k, fn] of Object.entries(props.on ?? {})) {
    if (fn) el.addEventListener(k, fn as EventListener);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
  return el;
}

export function setVisible(el: HTMLElement, visible: boolean): void {
  el.style.display = visible ? "" : "none";
}

/** Set text only when it changed (cheap to call every frame). */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Set a data-* attribute only when it changes (a write restyles the element even when equal). */
export function setData(el: HTMLElement, key: string, value: string): void {
  if (el.dataset[key] !== value) el.dataset[key] = value;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Calls `fn` at most once per `ms`, always with the latest arguments (trailing). */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { flush(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last: A | null = null;
  const run = (): void => {
    timer = null;
    if (last) {
      const args = last;
      last = null;
      fn(...args);
    }
  };
  const wrapped = ((...args: A) => {
    last = args;
    if (timer === null) timer = setTimeout(run, ms);
  }) as ((...args: A) => void) & { flush(): void; cancel(): void };
  wrapped.flush = () => {
    if (timer !== null) clearTimeout(timer);
    run();
  };
  wrapped.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    last = null;
  };
  return wrapped;
}

/**
 * Call `fn` when the user commits an input: on `change` (blur) and on Enter, which in
 * JupyterLab does not always produce a `change` event. Once per distinct value.
 */
export function onCommit(input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, fn: () => void): void {
  let committed = input.value;
  const commit = (): void => {
    if (input.value === committed) return;
    committed = input.value;
    fn();
  };
  input.addEventListener("change", commit);
  input.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Enter" && !(input instanceof HTMLTextAreaElement)) {
      e.preventDefault();
      commit();
    }
  });
}
