import { z } from 'zod';
import {
  CHANNEL_KINDS,
  type Channel,
  type ChannelKind,
  channelFilters,
  channelWarehouses,
} from './channels.js';
import { EVENT_CATALOG, EVENT_TYPES, type EventType } from './events/catalog.js';
import { envelopeOf } from './events/envelope.js';
import { EVENTS_STREAM, EVENTS_STREAM_DEFAULTS, EVENTS_SUBJECTS, LIVE_PREFIX } from './streams.js';
import {
  parseSubject,
  reservationSubject,
  stockSubject,
  transferSubject,
  webhookEndpointSubject,
} from './subjects.js';
import {
  AckMessage,
  ErrorFrame,
  EventFrame,
  LiveFrame,
  PingMessage,
  PongFrame,
  ReconnectFrame,
  ResetFrame,
  SessionMessage,
  SubscribedFrame,
  SubscribeMessage,
  UnsubscribedFrame,
  UnsubscribeMessage,
  WelcomeFrame,
  WS_CLOSE,
  WS_LIMITS,
  WS_PATHS,
} from './ws-protocol.js';

/**
 * The platform's event API as an AsyncAPI 3.0 document, generated from the contracts so it cannot drift:
 * every event type and schema version, its subject pattern on the EVENTS stream, the stream itself, the
 * WebSocket channels with the subject filters each covers, and the WebSocket frames.
 * `npm run asyncapi` writes it to docs/asyncapi.json; a test fails when the checked-in copy differs.
 */
export const ASYNCAPI_VERSION = '3.0.0';

type Json = Record<string, unknown>;

/** Schemas in AsyncAPI's default format (a superset of JSON Schema draft 7). */
function jsonSchemaOf(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-7',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

const camel = (s: string) => s.replace(/[._-](\w)/g, (_, c: string) => c.toUpperCase());
const messageName = (type: string, version: number) => `${type}.v${version}`;

const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  productId: 'Product id.',
  warehouseId: 'Warehouse id.',
  variantId: 'Variant id, or `_` when the stock record has no variant.',
  uomId: 'Unit-of-measure id, or `_` when the stock record has no unit of measure.',
  transferId: 'Transfer id.',
  sourceWarehouseId: 'Warehouse the transfer takes stock from.',
  destinationWarehouseId: 'Warehouse the transfer brings stock to.',
  endpointId: 'Webhook endpoint id (the bridge, `services/webhooks`).',
};
const PLACEHOLDER_IDS = Object.keys(PARAMETER_DESCRIPTIONS);

/**
 * The subject pattern of a type, found by building its subject with each id set to its own name and putting
 * `{name}` back where the name landed; which builder accepts the type decides the family.
 */
export function subjectPatternOf(type: EventType): { address: string; parameters: string[] } {
  const ids = Object.fromEntries(PLACEHOLDER_IDS.map((name) => [name, name])) as Record<string, string>;
  const builders = [
    () => stockSubject(ids as never, type as never),
    () => transferSubject(ids as never, type as never),
    () => reservationSubject(ids.transferId!, type as never),
    () => webhookEndpointSubject(ids.endpointId!, type as never),
  ];
  for (const build of builders) {
    let subject: string;
    try {
      subject = build();
    } catch {
      continue;
    }
    const parsed = parseSubject(subject);
    if (!parsed || parsed.eventType !== type) continue;
    const parameters: string[] = [];
    const address = subject
      .split('.')
      .map((token) => {
        if (!PLACEHOLDER_IDS.includes(token)) return token;
        parameters.push(token);
        return `{${token}}`;
      })
      .join('.');
    return { address, parameters };
  }
  throw new Error(`event type ${type} has no subject builder in subjects.ts; asyncapi.ts cannot describe it`);
}

function eventMessages(type: EventType): Json {
  const entry = EVENT_CATALOG[type] as { current: number; versions: Record<number, z.ZodType> };
  const messages: Json = {};
  for (const [v, data] of Object.entries(entry.versions)) {
    const version = Number(v);
    const current = version === entry.current;
    messages[messageName(type, version)] = {
      name: type,
      title: `${type} v${version}${current ? ' (current)' : ''}`,
      summary: current
        ? `Written by producers today; consumers receive every older version upcast to this one.`
        : `May still sit in the stream; decodeEvent upcasts it to v${entry.current}.`,
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': {
            type: 'string',
            description: 'The event id: JetStream drops a repeat in its window.',
          },
        },
      },
      payload: jsonSchemaOf(envelopeOf(type, version, data)),
      'x-schema-version': version,
      'x-current': current,
    };
  }
  return messages;
}

function eventChannels(): { channels: Json; operations: Json; messages: Json } {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  for (const type of EVENT_TYPES) {
    const { address, parameters } = subjectPatternOf(type);
    const own = eventMessages(type);
    Object.assign(messages, own);
    const channelId = camel(type);
    channels[channelId] = {
      address,
      title: type,
      description: `Events of type \`${type}\` on the ${EVENTS_STREAM} stream (also republished live on \`${LIVE_PREFIX}.${address}\`).`,
      parameters: Object.fromEntries(parameters.map((p) => [p, { description: PARAMETER_DESCRIPTIONS[p] }])),
      messages: Object.fromEntries(
        Object.keys(own).map((name) => [camel(name), { $ref: `#/components/messages/${name}` }]),
      ),
      servers: [{ $ref: '#/servers/nats' }],
      'x-event-type': type,
      'x-current-schema-version': EVENT_CATALOG[type].current,
    };
    operations[`publish${channelId[0]!.toUpperCase()}${channelId.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      summary: `The platform publishes ${type} (outbox relay, in commit order per aggregate).`,
    };
  }
  return { channels, operations, messages };
}

const PLACEHOLDER_CHANNELS: Record<ChannelKind, Channel> = {
  global: { kind: 'global' },
  product: { kind: 'product', productId: '{productId}' },
  warehouse: { kind: 'warehouse', warehouseId: '{warehouseId}' },
  variant: { kind: 'variant', variantId: '{variantId}' },
  uom: { kind: 'uom', uomId: '{uomId}' },
  'product-warehouse': { kind: 'product-warehouse', productId: '{productId}', warehouseId: '{warehouseId}' },
  transfer: { kind: 'transfer', transferId: '{transferId}' },
};
const CHANNEL_NAMES: Record<ChannelKind, string> = {
  global: 'global',
  product: 'product:{productId}',
  warehouse: 'warehouse:{warehouseId}',
  variant: 'variant:{variantId}',
  uom: 'uom:{uomId}',
  'product-warehouse': 'product:{productId}:warehouse:{warehouseId}',
  transfer: 'transfer:{transferId}',
};

/** The WebSocket channel names and the EVENTS stream subject filters each one covers. */
export function channelSubjectMapping(): Array<{
  channel: string;
  subjects: string[];
  warehouseScoped: boolean;
}> {
  return CHANNEL_KINDS.map((kind) => {
    const channel = PLACEHOLDER_CHANNELS[kind];
    return {
      channel: CHANNEL_NAMES[kind],
      subjects: channelFilters(channel),
      warehouseScoped: channelWarehouses(channel) !== null,
    };
  });
}

const CLIENT_FRAMES = {
  subscribe: SubscribeMessage,
  unsubscribe: UnsubscribeMessage,
  ping: PingMessage,
  session: SessionMessage,
  ack: AckMessage,
} as const;
const SERVER_FRAMES = {
  welcome: WelcomeFrame,
  subscribed: SubscribedFrame,
  unsubscribed: UnsubscribedFrame,
  live: LiveFrame,
  reset: ResetFrame,
  pong: PongFrame,
  error: ErrorFrame,
  reconnect: ReconnectFrame,
  event: EventFrame,
} as const;

function frameMessages(frames: Record<string, z.ZodType>, prefix: string): Json {
  return Object.fromEntries(
    Object.entries(frames).map(([name, schema]) => [
      `${prefix}.${name}`,
      {
        name,
        title: `${prefix} frame: ${name}`,
        contentType: 'application/json',
        payload: jsonSchemaOf(schema),
      },
    ]),
  );
}

function webSocketChannels(): { channels: Json; operations: Json; messages: Json } {
  const client = frameMessages(CLIENT_FRAMES, 'ws.client');
  const server = frameMessages(SERVER_FRAMES, 'ws.server');
  const refs = (messages: Json) =>
    Object.fromEntries(
      Object.keys(messages).map((name) => [camel(name), { $ref: `#/components/messages/${name}` }]),
    );
  const mapping = channelSubjectMapping();
  const channels: Json = {};
  const operations: Json = {};
  for (const [key, path] of Object.entries(WS_PATHS)) {
    const kinds = key === 'warehouses' ? mapping.filter((m) => m.warehouseScoped) : mapping;
    const channelId = `ws${key[0]!.toUpperCase()}${key.slice(1)}`;
    channels[channelId] = {
      address: path,
      title: `WebSocket ${path}`,
      description:
        `JSON text frames. Authenticate with \`?token=<JWT>\` or an Authorization header. ` +
        `Subscribable channels: ${kinds.map((k) => `\`${k.channel}\``).join(', ')}.`,
      servers: [{ $ref: '#/servers/gateway' }],
      messages: { ...refs(client), ...refs(server) },
      'x-channels': kinds,
      'x-limits': WS_LIMITS,
      'x-close-codes': WS_CLOSE,
    };
    operations[`${channelId}ClientFrames`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${channelId}` },
      summary: `Frames a client sends on ${path}.`,
      messages: Object.keys(client).map((name) => ({
        $ref: `#/channels/${channelId}/messages/${camel(name)}`,
      })),
    };
    operations[`${channelId}ServerFrames`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      summary: `Frames the gateway sends on ${path}.`,
      messages: Object.keys(server).map((name) => ({
        $ref: `#/channels/${channelId}/messages/${camel(name)}`,
      })),
    };
  }
  return { channels, operations, messages: { ...client, ...server } };
}

export function buildAsyncApiDocument(options: { version?: string } = {}): Json {
  const events = eventChannels();
  const ws = webSocketChannels();
  return {
    asyncapi: ASYNCAPI_VERSION,
    info: {
      title: 'Real-time inventory events',
      version: options.version ?? '1.0.0',
      description:
        `Domain events of the inventory platform, and the webhook bridge's events about its endpoints ` +
        `(\`webhooks.endpoint_paused\`, \`webhooks.endpoint_resumed\`). All of them live in one JetStream stream, \`${EVENTS_STREAM}\` ` +
        `(subjects ${EVENTS_SUBJECTS.map((s) => `\`${s}\``).join(', ')}), so a stream sequence orders them and is ` +
        `a resume cursor. Each event carries its id in \`Nats-Msg-Id\`: delivery is at least once, so consumers ` +
        `dedupe by id. Events of older schema versions may remain in the stream for the retention period; ` +
        `decode with @inv/contracts' decodeEvent to get the current version. See docs/integrating.md.`,
    },
    servers: {
      nats: {
        host: 'localhost:4222',
        protocol: 'nats',
        description: 'NATS JetStream (server 2.9): read the EVENTS stream with a durable consumer.',
      },
      gateway: {
        host: 'localhost:3000',
        protocol: 'ws',
        description: 'The WebSocket gateway.',
      },
    },
    defaultContentType: 'application/json',
    channels: { ...events.channels, ...ws.channels },
    operations: { ...events.operations, ...ws.operations },
    components: { messages: { ...events.messages, ...ws.messages } },
    'x-stream': {
      name: EVENTS_STREAM,
      subjects: [...EVENTS_SUBJECTS],
      livePrefix: LIVE_PREFIX,
      defaults: EVENTS_STREAM_DEFAULTS,
    },
  };
}

/** The document exactly as docs/asyncapi.json holds it. */
export function formatAsyncApiDocument(): string {
  return `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
}

/** The command that regenerates docs/asyncapi.json. */
export const ASYNCAPI_REGENERATE_COMMAND = 'npm run asyncapi';
