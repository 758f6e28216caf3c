import { EVENTS_STREAM } from '@inv/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { StreamStateSource } from '../../app/ports.js';
import type { StreamState } from '../../domain/cursor-check.js';

/**
 * The EVENTS stream's epoch and bounds. Each caller gets an answer to a request sent after it asked (a stale
 * end could make a valid cursor look "ahead"), but concurrent callers share requests: while one is in flight,
 * every newcomer waits for the single next one. A reconnect storm of ten thousand clients costs a few requests.
 */
export class EventsStreamState implements StreamStateSource {
  private inFlight: Promise<StreamState> | null = null;
  private queued: Promise<StreamState> | null = null;

  private constructor(
    private readonly jsm: JetStreamManager,
    public epoch: number,
    private readonly onEpochChange: (state: StreamState) => void,
  ) {}

  static async open(
    jsm: JetStreamManager,
    onEpochChange: (state: StreamState) => void,
  ): Promise<EventsStreamState> {
    const state = await fetchState(jsm);
    return new EventsStreamState(jsm, state.epoch, onEpochChange);
  }

  current(): Promise<StreamState> {
    if (!this.inFlight) {
      this.inFlight = this.fetch().finally(() => {
        this.inFlight = null;
      });
      return this.inFlight;
    }
    this.queued ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.current();
      });
    return this.queued;
  }

  private async fetch(): Promise<StreamState> {
    const state = await fetchState(this.jsm);
    if (state.epoch !== this.epoch) {
      this.epoch = state.epoch;
      this.onEpochChange(state);
    }
    return state;
  }
}

async function fetchState(jsm: JetStreamManager): Promise<StreamState> {
  const info = await jsm.streams.info(EVENTS_STREAM);
  return { epoch: Date.parse(info.created), firstSeq: info.state.first_seq, lastSeq: info.state.last_seq };
}
