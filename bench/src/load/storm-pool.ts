import { resolve } from 'node:path';
import { type LoadChild, startLoadChild } from './child.js';
import type { StormChildMessage, StormConfig, StormParentMessage, StormResult } from './storm-protocol.js';

const STORM_ENTRY = resolve(import.meta.dirname, 'storm-clients.js');

/** The storm's clients of one server, in a process of their own (storm-clients.ts), driven step by step. */
export class StormPool {
  private constructor(
    private readonly child: LoadChild<StormChildMessage, StormParentMessage>,
    private readonly label: string,
    readonly connectMs: number,
  ) {}

  get pid(): number {
    return this.child.pid;
  }

  /** Resolves once every client is connected and subscribed. */
  static async start(config: StormConfig, timeoutMs = 180_000): Promise<StormPool> {
    const label = `storm clients (${config.target}, ${config.count})`;
    const { child, connectMs } = await startLoadChild<StormChildMessage, StormParentMessage>(
      STORM_ENTRY,
      config,
      `storm-${config.target}-${config.count}`,
      timeoutMs,
    );
    return new StormPool(child, label, connectMs);
  }

  /** Every client has received the event of this version. */
  async awaitVersion(version: number, timeoutMs = 60_000): Promise<void> {
    await this.ask({ type: 'await', version, timeoutMs }, timeoutMs + 5_000);
  }

  /** Cuts every client off at once. */
  async drop(): Promise<void> {
    await this.ask({ type: 'drop' });
  }

  /** Sends every client back at once; each must get exactly `missed` events before it is live. */
  async reconnect(missed: number, timeoutMs = 60_000): Promise<StormResult> {
    const answer = await this.ask({ type: 'reconnect', missed, timeoutMs }, timeoutMs + 30_000);
    if (answer.type !== 'storm') throw new Error(`${this.label}: no storm result`);
    return answer.result;
  }

  async stop(): Promise<void> {
    await this.ask({ type: 'stop' }).catch(() => this.child.kill());
  }

  private async ask(message: StormParentMessage, timeoutMs?: number): Promise<StormChildMessage> {
    const answer = this.child.next(timeoutMs);
    this.child.send(message);
    const reply = await answer;
    if (reply.type === 'error') throw new Error(`${this.label}: ${reply.message}`);
    return reply;
  }
}
