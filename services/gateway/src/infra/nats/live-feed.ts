import { EVENTS_STREAM, LIVE_PREFIX, liveSubject } from '@inv/contracts';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { LiveFeed } from '../../app/ports.js';
import { checkRepublished, type RepublishHeaders } from '../../domain/live-sequence.js';

const SUBJECT_OFFSET = LIVE_PREFIX.length + 1;

function republishHeaders(headers: MsgHdrs | undefined): RepublishHeaders {
  const get = (name: string) => (headers?.has(name) ? headers.get(name) : undefined);
  return {
    stream: get('Nats-Stream'),
    subject: get('Nats-Subject'),
    sequence: get('Nats-Sequence'),
    lastSequence: get('Nats-Last-Sequence'),
  };
}

/**
 * Core subscriptions on the subjects the EVENTS stream republishes every stored message to (`live.<subject>`,
 * with `Nats-Stream`, `Nats-Subject`, `Nats-Sequence` and `Nats-Last-Sequence` headers). No consumer is
 * involved: the server fans out to every interested gateway at the cost of plain NATS messages. A message
 * without consistent RePublish headers is not the stream's and is handed to `onRejected` instead.
 */
export function natsLiveFeed(nc: NatsConnection, logger: Logger): LiveFeed {
  let loggedAt = 0;
  return {
    subscribe(filter, onMessage, onRejected) {
      const subscription = nc.subscribe(liveSubject(filter), {
        callback: (error, message) => {
          if (error) {
            logger.warn({ err: error, filter }, 'live subscription failed');
            return;
          }
          const subject = message.subject.slice(SUBJECT_OFFSET);
          try {
            const check = checkRepublished(republishHeaders(message.headers), subject, EVENTS_STREAM);
            if (!check.ok) {
              // A flood of forged messages must not become a flood of log lines: one a second tells the story.
              if (Date.now() - loggedAt >= 1_000) {
                loggedAt = Date.now();
                logger.warn({ subject: message.subject, reason: check.reason }, 'live message rejected');
              }
              onRejected(check.reason);
              return;
            }
            onMessage({ seq: check.seq, lastSeq: check.lastSeq, subject, data: message.data });
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
