import { Agent, request } from 'undici';

/**
 * The load generator's HTTP client: undici's `request` on one keep-alive agent. The benchmarks share two cores
 * with the servers they measure, so the client must cost as little as it can: the global `fetch` (undici
 * behind the WHATWG API: streams, Headers, Response objects) spent ~340–450 µs of CPU per request where
 * `request` spends ~70–80 µs (a local POST with a 0.4 KB answer, 32 in flight, both in one run), time taken
 * from the service and PostgreSQL on the same cores.
 */
const agent = new Agent({ keepAliveTimeout: 30_000, connectTimeout: 10_000 });

export interface HttpAnswer {
  status: number;
  /** The body as text (empty when there was none). */
  text: string;
}

export async function httpRequest(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  const { statusCode, body } = await request(url, {
    dispatcher: agent,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
  });
  return { status: statusCode, text: await body.text() };
}

/** The answer's body as JSON, or null when it is not JSON. */
export function jsonOf<T>(answer: HttpAnswer): T | null {
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    return null;
  }
}
