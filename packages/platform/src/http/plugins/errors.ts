import { DomainError, type ErrorCode, errorBody } from '@inv/contracts';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../../db/database.js';
import { HTTP_STATUS } from '../status.js';

function send(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  extra: Parameters<typeof errorBody>[2] = {},
) {
  return reply.code(HTTP_STATUS[code]).send(errorBody(code, message, extra));
}

/** Where a validation issue points: `quantity`, `lines.0.lineId`, or the header/query/param name. */
function fieldOf(instancePath: string | undefined, missingProperty?: string): string | undefined {
  const path = (instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  return [path, missingProperty].filter(Boolean).join('.') || undefined;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
};

/**
 * Maps every failure to `{ code, message, error, field?, details? }`: validation to 400 naming the field,
 * domain errors by their code, a database outage to 503, and only the truly unexpected to 500.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | DomainError, request, reply) => {
      if (error instanceof DomainError) {
        const retryAfter = error.details?.retryAfterSeconds;
        if (error.code === 'SERVER_BUSY' && typeof retryAfter === 'number') {
          reply.header('Retry-After', String(retryAfter));
        }
        return send(reply, error.code, error.message, { field: error.field, details: error.details });
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        const issues = error.validation.map((v) => ({
          field: fieldOf(v.instancePath, (v.params as { keys?: string[] })?.keys?.[0]),
          message: v.message ?? 'invalid',
        }));
        const where = (error as { validationContext?: string }).validationContext ?? 'body';
        const first = issues[0];
        return send(
          reply,
          'VALIDATION_FAILED',
          `invalid ${where}: ${first?.field ?? where} ${first?.message ?? ''}`.trim(),
          {
            field: first?.field ?? where,
            details: { in: where, issues },
          },
        );
      }
      const fastifyCode = error.code ? FASTIFY_CODES[error.code] : undefined;
      if (fastifyCode) return send(reply, fastifyCode, error.message);
      if (error instanceof SyntaxError || (error.statusCode === 400 && !error.code)) {
        return send(reply, 'INVALID_JSON', `request body is not valid JSON: ${error.message}`);
      }
      if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: error }, 'database unavailable');
        reply.header('Retry-After', '1');
        return send(reply, 'SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.');
      }
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        return send(reply, error.statusCode === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED', error.message);
      }
      request.log.error({ err: error }, 'unexpected error');
      return send(reply, 'INTERNAL_ERROR', 'Internal error');
    });
    app.setNotFoundHandler((request, reply) =>
      send(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
    );
  },
  { name: 'errors' },
);
