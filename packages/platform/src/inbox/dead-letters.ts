import { DEAD_LETTER_HEADERS, deadLetterSubject, EVENTS_STREAM } from '@inv/contracts';
import { type JsMsg, jetstream } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';

/**
 * A handler's verdict that an event can never be applied (retrying cannot help): the consumer moves it to the
 * dead-letter stream and goes on. Any other error is treated as an infrastructure fault and retried for ever.
 */
export class PermanentEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentEventError';
  }
}

export type DeadLetterReason = 'undecodable' | 'permanent';

const MAX_ERROR_HEADER = 1_000;

/**
 * Publishes a message this consumer cannot apply to `dlq.<service>.<subject>` with its original headers and what
 * went wrong. The message id is the original's stream position, so a dead letter published twice (a crash before
 * the original was acknowledged) is stored once.
 */
export async function publishDeadLetter(
  nc: NatsConnection,
  input: { service: string; consumer: string; msg: JsMsg; reason: DeadLetterReason; error: string },
): Promise<number> {
  const { msg } = input;
  const h = natsHeaders();
  for (const [key, values] of msg.headers ?? []) {
    if (key === 'Nats-Msg-Id') continue;
    for (const value of values) h.append(key, value);
  }
  const H = DEAD_LETTER_HEADERS;
  h.set(H.subject, msg.subject);
  h.set(H.stream, msg.info.stream ?? EVENTS_STREAM);
  h.set(H.seq, String(msg.seq));
  h.set(H.consumer, input.consumer);
  h.set(H.reason, input.reason);
  // Header values are one line.
  h.set(H.error, input.error.replace(/\s+/g, ' ').slice(0, MAX_ERROR_HEADER));
  h.set(H.deliveries, String(msg.info.deliveryCount));
  h.set(H.time, new Date().toISOString());
  const ack = await jetstream(nc).publish(deadLetterSubject(input.service, msg.subject), msg.data, {
    headers: h,
    msgID: `${input.consumer}:${msg.info.stream}:${msg.seq}`,
  });
  return ack.seq;
}
