import { LIVE_PREFIX, liveSubject } from '@inv/contracts';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { LiveFeed } from '../../app/ports.js';

const SUBJECT_OFFSET = LIVE_PREFIX.length + 1;

/**
 * Core subscriptions on the subjects the EVENTS stream republishes every stored message to (`live.<subject>`,
 * with the stream sequence in `Nats-Sequence`). No consumer is involved: the server fans out to every
 * interested gateway at the cost of plain NATS messages.
 */
export function natsLiveFeed(nc: NatsConnection, logger: Logger): LiveFeed {
  return {
    subscribe(filter, onMessage) {
      const subscription = nc.subscribe(liveSubject(filter), {
        callback: (error, message) => {
          if (error) {
            logger.warn({ err: error, filter }, 'live subscription failed');
            return;
          }
          const seq = Number(message.headers?.get('Nats-Sequence'));
          if (!Number.isSafeInteger(seq) || seq <= 0) return;
          try {
            onMessage({ seq, subject: message.subject.slice(SUBJECT_OFFSET), data: message.data });
          } catch (failure) {
            logger.error({ err: failure, subject: message.subject }, 'live fan-out failed');
          }
        },
      });
      return () => subscription.unsubscribe();
    },
    flush: () => nc.flush(),
  };
}
