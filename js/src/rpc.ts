// Requests to the kernel that expect one `result` reply, matched by id.

import type { ResultMessage } from "./protocol";

export class Rpc {
  private seq = 0;
  private readonly pending = new Map<string, (r: ResultMessage) => void>();

  constructor(private readonly send: (content: Record<string, unknown>) => void, private readonly clientId: string) {}

  request(content: Record<string, unknown>): Promise<ResultMessage> {
    const id = `${this.clientId}-r${++this.seq}`;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ ...content, id });
    });
  }

  /** Hand a result to its waiting request (unknown ids are dropped). */
  resolve(msg: ResultMessage): void {
    const resolve = this.pending.get(msg.id);
    if (resolve) {
      this.pending.delete(msg.id);
      resolve(msg);
    }
  }
}
