import {
  CommitReservationRequest,
  CreateReservationRequest,
  ExtendReservationRequest,
  Id,
  ReleaseReservationRequest,
  Reservation,
  ReservationListQuery,
  ReservationPage,
} from '@inv/contracts';
import { callerOf, commandRunner } from '@inv/platform';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  bookReservation,
  type PreparedReservation,
  prepareReservation,
} from '../../app/reservation-creation.js';
import {
  getReservation,
  listReservations,
  type TransitionInput,
  transitionReservation,
} from '../../app/reservations.js';
import { entityManagerClient } from '../db/sql-client.js';
import type { RouteDeps } from './stock-routes.js';

export interface ReservationRouteDeps extends RouteDeps {
  /** How a reservation without an Idempotency-Key is created on `db` (with concurrent ones: StatementCombiner). */
  createWriter: (reservation: PreparedReservation) => Promise<Reservation>;
}

const READ = { permission: 'inventory:read' } as const;
const WRITE = { permission: 'inventory:adjust' } as const;
const tags = ['reservations'];
const ReservationIdParams = z.strictObject({ reservationId: Id });

/** Order reservations: hold stock for a cart or an order, then commit, release or extend it. */
export const reservationRoutes: FastifyPluginAsyncZod<ReservationRouteDeps> = async (app, deps) => {
  const { orm } = deps;
  const command = commandRunner(deps);
  const create = commandRunner<Reservation>({
    ...deps,
    location: (reservation) => `/api/reservations/${reservation.reservationId}`,
  });

  app.post(
    '/api/reservations',
    {
      config: WRITE,
      schema: {
        tags,
        summary: 'Hold stock of every line or none (Idempotency-Key honoured)',
        body: CreateReservationRequest,
        response: { 201: Reservation },
      },
      // The answer is reservationDto's, typed as the schema: re-validating it cost ~3% of the service's CPU
      // per reservation. The schema still documents it (OpenAPI) and the tests check it.
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const caller = callerOf(request);
      // Without an Idempotency-Key the one statement commits by itself on the pool; with one it runs in the
      // transaction that claims the key and stores the answer.
      return create(
        request,
        reply,
        (em) => bookReservation(entityManagerClient(em), prepareReservation(request.body, caller)),
        {
          direct: () => deps.createWriter(prepareReservation(request.body, caller)),
          successStatus: 201,
        },
      );
    },
  );

  app.get(
    '/api/reservations',
    {
      config: READ,
      schema: {
        tags,
        summary: 'Reservations by reference, status or warehouse, paged',
        querystring: ReservationListQuery,
        response: { 200: ReservationPage },
      },
    },
    async (request) => {
      const { reference, status, warehouseId, ...page } = request.query;
      return listReservations(orm.em.fork(), request.claims, { reference, status, warehouseId }, page);
    },
  );

  app.get(
    '/api/reservations/:reservationId',
    {
      config: READ,
      schema: {
        tags,
        summary: 'One reservation',
        params: ReservationIdParams,
        response: { 200: Reservation },
      },
    },
    async (request) => getReservation(orm.em.fork(), request.claims, request.params.reservationId),
  );

  const transition = <B extends z.ZodType>(
    action: 'commit' | 'release' | 'extend',
    body: B,
    summary: string,
    inputOf: (body: z.infer<B>) => Exclude<TransitionInput, { action: 'expire' }>,
  ) =>
    app.post(
      `/api/reservations/:reservationId/${action}`,
      {
        config: WRITE,
        schema: { tags, summary, params: ReservationIdParams, body, response: { 200: Reservation } },
        // Commit and release need no body at all: an empty request is an empty object.
        preValidation: async (request) => {
          (request as { body: unknown }).body ??= {};
        },
      },
      async (request, reply) =>
        command(request, reply, (em) =>
          transitionReservation(
            em,
            request.params.reservationId,
            inputOf(request.body as z.infer<B>),
            callerOf(request),
          ),
        ),
    );
  transition(
    'commit',
    CommitReservationRequest,
    'The goods leave: reserved stock goes out; with lines, a partial commit whose rest is released',
    (body) => ({ action: 'commit', lines: body.lines }),
  );
  transition(
    'release',
    ReleaseReservationRequest,
    'Give the held stock back to available (its creator, or a manager)',
    (body) => ({
      action: 'release',
      note: body.reason ?? null,
    }),
  );
  transition('extend', ExtendReservationRequest, 'Hold the stock longer', (body) => ({
    action: 'extend',
    expiresInSeconds: body.expiresInSeconds,
  }));
};
