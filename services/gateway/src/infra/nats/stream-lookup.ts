import { EVENTS_STREAM } from '@inv/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { StreamLookup } from '../../app/ports.js';

/** Single-message reads of the EVENTS stream (`STREAM.MSG.GET`), to check the live feed against the stream. */
export function natsStreamLookup(jsm: JetStreamManager): StreamLookup {
  return {
    async messageAt(seq) {
      const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
      return message ? { seq: message.seq, subject: message.subject, data: message.data } : null;
    },
  };
}
