export interface JsonReply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * An HTTP request as a client sends it: a JSON body, a bearer token when given. The answer is parsed when it
 * is JSON; anything else (Prometheus text, HTML) stays text.
 */
export async function fetchJson<T = unknown>(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
): Promise<JsonReply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: body as T, headers: response.headers };
}
