import {
  CreateTransferRequest,
  ErrorBody,
  Id,
  type Permission,
  ReasonedTransitionRequest,
  ReceiveTransferRequest,
  TRANSFER_ACTIONS,
  Transfer,
  type TransferAction,
  TransferListQuery,
  TransferPage,
  TransitionRequest,
} from '@inv/contracts';
import { callerOf, commandRunner, expectedVersionFrom, type Orm } from '@inv/platform';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createTransfer, performTransition, type TransferPolicy } from '../../app/commands.js';
import { transferDtoFor } from '../../app/dto.js';
import { listTransfers, visibleTransfer } from '../../app/queries.js';

export interface TransferRouteDeps {
  orm: Orm;
  /** Wakes the outbox relay after a commit. */
  notify: () => void;
  policy?: TransferPolicy;
}

const tags = ['transfers'];
const TransferIdParams = z.strictObject({ transferId: Id });
const errors = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/**
 * Deciding is a manager's call; handling the goods is a clerk's. This is the role alone; which warehouse the
 * role must be held at is the permission matrix's rule (domain/permissions.ts), checked in the use case.
 */
const PERMISSION_OF: Record<TransferAction, Permission> = {
  approve: 'transfer:decide',
  reject: 'transfer:decide',
  'start-picking': 'transfer:handle',
  pack: 'transfer:handle',
  ship: 'transfer:handle',
  receive: 'transfer:handle',
  complete: 'transfer:handle',
  cancel: 'transfer:handle',
};

/** Reject and cancel need a reason, receive needs the quantities; the others take an optional body. */
function bodyOf(action: TransferAction) {
  if (action === 'receive') return ReceiveTransferRequest;
  if (action === 'reject' || action === 'cancel') return ReasonedTransitionRequest;
  return TransitionRequest.nullish();
}

const SUMMARY_OF: Record<TransferAction, string> = {
  approve: 'Approve: inventory reserves the lines at the source',
  reject: 'Reject a requested transfer (reason required)',
  'start-picking': 'Start picking (once inventory has reserved the stock)',
  pack: 'Mark packed',
  ship: 'Ship every line in full: the reservation leaves the source',
  receive: 'Receive at the destination, per line; less than shipped is a discrepancy',
  complete: 'Complete a received transfer',
  cancel: 'Cancel before shipment (reason required): the reservation is released',
};

/** The version to send back as If-Match. */
function withEtag(reply: FastifyReply, transfer: Transfer): Transfer {
  reply.header('etag', `"${transfer.version}"`);
  return transfer;
}

/** The transfer workflow over REST: create, read, list and one POST per transition. */
export const transferRoutes: FastifyPluginAsyncZod<TransferRouteDeps> = async (
  app,
  { orm, notify, policy },
) => {
  const command = commandRunner<Transfer>({
    orm,
    notify,
    etag: (transfer) => transfer.version,
    location: (transfer) => `/api/transfers/${transfer.transferId}`,
  });

  app.post(
    '/api/transfers',
    {
      config: { permission: 'transfer:request' },
      schema: {
        tags,
        summary: 'Request a transfer between two warehouses',
        body: CreateTransferRequest,
        response: { 201: Transfer, ...errors },
      },
    },
    async (request, reply) =>
      command(request, reply, (em) => createTransfer(em, request.body, callerOf(request)), {
        successStatus: 201,
      }),
  );

  app.get(
    '/api/transfers',
    {
      config: { permission: 'transfer:read' },
      schema: {
        tags,
        summary: 'Transfers from or to the warehouses of the caller, newest first, paged',
        querystring: TransferListQuery,
        response: { 200: TransferPage, ...errors },
      },
    },
    async (request) => listTransfers(orm.em.fork(), request.claims, request.query),
  );

  app.get(
    '/api/transfers/:transferId',
    {
      config: { permission: 'transfer:read' },
      schema: {
        tags,
        summary: 'One transfer with its lines and history',
        params: TransferIdParams,
        response: { 200: Transfer, ...errors },
      },
    },
    async (request, reply) =>
      withEtag(
        reply,
        transferDtoFor(
          await visibleTransfer(orm.em.fork(), request.claims, request.params.transferId),
          request.claims,
        ),
      ),
  );

  for (const action of Object.keys(TRANSFER_ACTIONS) as TransferAction[]) {
    app.post(
      `/api/transfers/:transferId/${action}`,
      {
        config: { permission: PERMISSION_OF[action] },
        schema: {
          tags,
          summary: `${SUMMARY_OF[action]} (If-Match and Idempotency-Key honoured)`,
          params: TransferIdParams,
          body: bodyOf(action),
          response: { 200: Transfer, ...errors },
        },
      },
      async (request, reply) => {
        // Fastify hands over null when there is no body at all.
        const body = (request.body ?? {}) as NonNullable<z.infer<ReturnType<typeof bodyOf>>>;
        const expectedVersion = expectedVersionFrom(request, body.expectedVersion);
        return command(
          request,
          reply,
          (em) =>
            performTransition(
              em,
              request.params.transferId,
              action,
              { ...body, expectedVersion },
              callerOf(request),
              policy,
            ),
          { expectedVersion },
        );
      },
    );
  }
};
