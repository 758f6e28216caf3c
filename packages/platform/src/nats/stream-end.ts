import type { JetStreamManager, MsgRequest, NextMsgRequest } from '@nats-io/jetstream';

/**
 * The sequence of the first message on `filter` at or after `seq`, as the stream leader sees it; null when there
 * is none. A consumer (R1, or an ordered one) lands on any replica of a clustered stream, and a replica catching
 * up reports "nothing pending" for what it has not received yet: this is how a reader tells "the end" from "a
 * replica behind". nats.js types `next_by_subj` for direct gets only, which any replica may answer; the server
 * (2.9+) takes it on `STREAM.MSG.GET` too, which only the stream leader answers.
 */
export async function nextStoredSeq(
  jsm: JetStreamManager,
  stream: string,
  seq: number,
  filter: string,
): Promise<number | null> {
  const request: NextMsgRequest = { seq, next_by_subj: filter };
  const message = await jsm.streams.getMessage(stream, request as unknown as MsgRequest);
  return message?.seq ?? null;
}
