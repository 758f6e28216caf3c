import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';

/** Query parameters whose values are credentials (the WebSocket `?token=`, OAuth-style names): never logged. */
const SECRET_PARAM =
  /^(token|access_token|id_token|refresh_token|jwt|api_key|apikey|key|secret|password|auth|authorization)$/i;

/** The URL with the values of credential-like query parameters replaced, for logs. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed name is logged as sent; it is not one of ours
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, at)}?${query}`;
}

export interface RequestLogOptions {
  /** Requests slower than this are logged at `warn`; the others at `debug`. */
  slowRequestMs: number;
}

/**
 * One line per request after the response: at `debug` normally, so a busy service spends nothing on it at the
 * default `info` level; at `warn` when the request was slow or answered 5xx. Credentials in the query are
 * redacted (a WebSocket upgrade carries `?token=`).
 */
export const requestLogPlugin = fp(
  async (app: FastifyInstance, options: RequestLogOptions) => {
    app.addHook('onResponse', async (request, reply) => {
      const ms = reply.elapsedTime;
      const notable = reply.statusCode >= 500 || ms > options.slowRequestMs;
      const level = notable ? 'warn' : 'debug';
      if (!(request.log as Logger).isLevelEnabled(level)) return;
      request.log[level](
        {
          method: request.method,
          url: redactUrl(request.url),
          route: request.routeOptions.url,
          status: reply.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        notable ? (reply.statusCode >= 500 ? 'request failed' : 'slow request') : 'request',
      );
    });
  },
  { name: 'request-log' },
);
