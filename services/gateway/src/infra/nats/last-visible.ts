import { EVENTS_STREAM } from '@inv/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { LastMatching } from '../../app/ports.js';

/** The stream sequence of the newest message matching any of the filters (0 when none does). */
export function lastMatching(jsm: JetStreamManager): LastMatching {
  return async (filters) => {
    const seqs = await Promise.all(
      filters.map(async (filter) => {
        try {
          return (await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: filter }))?.seq ?? 0;
        } catch (error) {
          // No message on that subject: the server answers 404.
          if ((error as { code?: number | string })?.code === 404 || /no message found/i.test(String(error)))
            return 0;
          throw error;
        }
      }),
    );
    return Math.max(0, ...seqs);
  };
}
