import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEvent, type DomainEvent, subjectOf } from '@inv/contracts';
import { run } from '@inv/invctl';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { verifyWebhook, WEBHOOK_HEADERS } from '../src/index.js';

export interface Received {
  eventId: string;
  type: string;
  body: string;
  signature: string;
  timestamp: string;
  at: number;
}

/**
 * The HTTP endpoint of a test: records every request, answers with the status `respond` picks, and can go
 * down and come back on the same port. `uniqueIds` is what a receiver deduplicating by event id keeps.
 */
export class TestReceiver {
  readonly requests: Received[] = [];
  respond: (r: Received) => number | Promise<number> = () => 204;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  uniqueIds(): string[] {
    return [...new Set(this.requests.map((r) => r.eventId))];
  }

  verified(secret: string): boolean {
    return this.requests.every(
      (r) => verifyWebhook(secret, { signature: r.signature, timestamp: r.timestamp }, r.body).ok,
    );
  }

  private async onRequest(req: IncomingMessage, res: import('node:http').ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const received: Received = {
      eventId: String(req.headers[WEBHOOK_HEADERS.eventId]),
      type: String(req.headers[WEBHOOK_HEADERS.eventType]),
      body,
      signature: String(req.headers[WEBHOOK_HEADERS.signature]),
      timestamp: String(req.headers[WEBHOOK_HEADERS.timestamp]),
      at: Date.now(),
    };
    this.requests.push(received);
    res.statusCode = await this.respond(received);
    res.end();
  }
}

let version = 0;

/** A stock event of the given type for a warehouse, published the way the outbox relay does. */
export async function publishStockEvent(
  nc: NatsConnection,
  type: 'inventory.low_stock' | 'inventory.out_of_stock',
  warehouseId: string,
): Promise<DomainEvent> {
  version++;
  const data = {
    inventoryId: `inv-${warehouseId}`,
    productId: 'prod-1',
    warehouseId,
    variantId: null,
    uomId: null,
    quantityAvailable: 2,
    quantityReserved: 0,
    minimumStock: 10,
    version,
    timestamp: new Date().toISOString(),
    ...(type === 'inventory.low_stock' ? { deficit: 8 } : {}),
  };
  const event = createEvent(type, data as never, {
    aggregate: { type: 'inventory', id: `inv-${warehouseId}`, version },
  }) as DomainEvent;
  await jetstream(nc).publish(subjectOf(event), JSON.stringify(event), { msgID: event.id });
  return event;
}

/** invctl run in-process, capturing its output. */
export async function invctl(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: {
      write: (text: string) => {
        stdout += text;
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
        return true;
      },
    },
    stdin: process.stdin,
    env: {},
  } as never);
  return { code, stdout, stderr };
}
