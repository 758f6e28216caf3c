import { request as httpRequest } from 'node:http';

export interface JsonReply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON when the text is JSON; anything else (Prometheus text, HTML) stays text. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A bearer token when given, and the content type when there is a JSON body. */
function jsonHeaders(options: { body?: unknown; token?: string | null; headers?: Record<string, string> }) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

/**
 * An HTTP request as a client sends it: a JSON body, a bearer token when given. The answer is parsed when it
 * is JSON; anything else (Prometheus text, HTML) stays text.
 */
export async function fetchJson<T = unknown>(
  url: string,
  options: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    token?: string | null;
    /** Gives up (rejects) after this long: for tests that must tell a slow answer from a hang. */
    timeoutMs?: number;
  } = {},
): Promise<JsonReply<T>> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: jsonHeaders(options),
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const body = parseBody(await response.text());
  return { status: response.status, body: body as T, headers: response.headers };
}

/**
 * An HTTP request sent exactly as given, path included: `fetch` would normalise `.`/`..` segments and refuse
 * some bytes, which hostile-input tests must send. The body is sent as is (string or bytes).
 */
export function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<JsonReply> {
  const target = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = parseBody(Buffer.concat(chunks).toString());
          const headers = new Headers();
          for (const [key, value] of Object.entries(response.headers))
            if (typeof value === 'string') headers.set(key, value);
          resolve({ status: response.statusCode ?? 0, body, headers });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** True when a reply is a refusal a client can act on: a 4xx status and a machine-readable `code`. */
export function isClearRefusal(reply: JsonReply): boolean {
  const code = (reply.body as { code?: unknown } | null)?.code;
  return reply.status >= 400 && reply.status < 500 && typeof code === 'string' && code.length > 0;
}

/** `rawRequest` with a JSON body (when given) and a bearer token (when given). */
export function rawJson(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<JsonReply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return rawRequest(baseUrl, { method, path, headers: jsonHeaders(options), body });
}

/** One sample of a service's Prometheus `/metrics`, by name and the start of its label set; NaN when absent. */
export async function metricValue(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = String((await fetchJson<string>(`${baseUrl}/metrics`)).body);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}`) || l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1));
}
