import { isStreamNotFound } from '@inv/platform';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

/**
 * A KV bucket that can be lost under a running process (deleted by an operator, a server's storage wiped) and must
 * come back without a restart. An operation that fails makes the keeper look at the bucket's stream: missing, it
 * is made again; a new one (its `created` time changed, whoever made it), the listeners are told, since whatever
 * the old one held is gone. The operation is then tried once more; a failure with the same stream stands.
 */
export class BucketKeeper {
  private looking: Promise<boolean> | null = null;
  private readonly listeners = new Set<() => Promise<void>>();

  private constructor(
    public kv: KV,
    private created: string,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly make: () => Promise<KV>,
  ) {}

  static async open(jsm: JetStreamManager, stream: string, make: () => Promise<KV>): Promise<BucketKeeper> {
    const kv = await make();
    const info = await jsm.streams.info(stream);
    return new BucketKeeper(kv, info.created, jsm, stream, make);
  }

  /** Runs `operation` on the bucket; if it fails because the bucket was lost or made anew, once more on the new one. */
  async run<T>(operation: (kv: KV) => Promise<T>): Promise<T> {
    try {
      return await operation(this.kv);
    } catch (error) {
      if (!(await this.check().catch(() => false))) throw error;
      return operation(this.kv);
    }
  }

  /** Looks at the bucket's stream, making it again when missing; true when it is a new one. Callers share a look. */
  check(): Promise<boolean> {
    this.looking ??= this.look().finally(() => {
      this.looking = null;
    });
    return this.looking;
  }

  /** Calls `listener` (awaited) each time the bucket is found to be a new one; returns a function that stops it. */
  onRecreated(listener: () => Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async look(): Promise<boolean> {
    let info = await this.jsm.streams.info(this.stream).catch((error: unknown) => {
      if (isStreamNotFound(error)) return null;
      throw error;
    });
    if (!info) {
      this.kv = await this.make();
      info = await this.jsm.streams.info(this.stream);
    }
    if (info.created === this.created) return false;
    this.created = info.created;
    await Promise.all([...this.listeners].map((listener) => listener()));
    return true;
  }
}
