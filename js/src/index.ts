// The anywidget entry: one Controller per rendered view; cleanup when the view goes away.
import type { Render } from "@anywidget/types";
import { Controller } from "./controller";
import type { WidgetModel } from "./protocol";

const render: Render<WidgetModel> = ({ model, el }) => {
  let controller: Controller | null = null;
  try {
    controller = new Controller(model, el);
  } catch (e) {
    console.error("wk_widget: cannot render", e);
    const msg = document.createElement("pre");
    msg.dataset["testid"] = "wk-widget-error";
    msg.textContent = `wk_widget could not start: ${e instanceof Error ? e.message : String(e)}`;
    el.append(msg);
  }
  return () => {
    controller?.destroy();
  };
};

export default { render };
