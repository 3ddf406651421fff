import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, ListOf, ListQuery, problems } from '../../http/schemas.js';
import { presentTouchpoint } from '../touchpoints/touchpoint-view.js';
import {
  ConsentBody,
  ConsentParams,
  ConsentResult,
  CustomerExport,
  CustomerListQuery,
  CustomerParams,
  CustomerProfile,
  SHARED_CUSTOMER_SCHEMAS,
} from './customers.schemas.js';
import {
  type CustomersContext,
  customerTimeline,
  customerTouchpoints,
  eraseCustomer,
  exportCustomer,
  getCustomer,
  listCustomers,
  type CustomerProfile as Profile,
  setConsent,
} from './customers.service.js';

const tags = ['customers'];
const iso = (date: Date | null) => date?.toISOString() ?? null;

function present(p: Profile) {
  const s = p.state;
  return {
    id: s.externalId,
    name: s.name,
    email: s.email,
    phone: s.phone,
    locale: s.locale,
    timezone: s.timezone,
    segment: s.segment,
    attributes: { ...s.attributes },
    lifecycle_stage: p.stage,
    first_seen_at: s.firstSeenAt.toISOString(),
    first_purchase_at: iso(s.firstPurchaseAt),
    last_purchase_at: iso(s.lastPurchaseAt),
    last_activity_at: iso(s.lastActivityAt),
    first_use_at: iso(s.firstUseAt),
    orders_count: s.ordersCount,
    revenue_total: s.revenueTotal,
    average_ticket: p.averageTicket,
    currency: p.currency,
    nps: s.nps,
    health_score: p.healthScore,
    open_tickets: p.openTickets,
    consent: p.consent,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

interface EventRow {
  readonly externalId: string;
  readonly type: string;
  readonly occurredAt: Date;
  readonly receivedAt: Date;
  readonly properties: unknown;
}

function presentEvent(event: EventRow) {
  return {
    id: event.externalId,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    received_at: event.receivedAt.toISOString(),
    properties: (event.properties ?? {}) as Record<string, unknown>,
  };
}

/** `/v1/customers…`: profiles with facts, timeline, consent, export and erasure. */
export const customersRoutes: FastifyPluginAsyncTypebox<{ ctx: CustomersContext }> = async (app, { ctx }) => {
  for (const schema of SHARED_CUSTOMER_SCHEMAS) app.addSchema(schema);

  app.get(
    '/customers',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listCustomers',
        summary: 'List customers, newest first, by segment, lifecycle stage or email',
        querystring: CustomerListQuery,
        response: { 200: ListOf(Type.Ref('CustomerProfile')), ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => {
      const result = await listCustomers(ctx, request.principal.workspaceId, request.query);
      return { data: result.data.map(present), next_cursor: result.next_cursor };
    },
  );

  app.get(
    '/customers/:id',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getCustomer',
        summary: 'A customer: profile, derived facts, lifecycle stage, health score, consent',
        params: CustomerParams,
        response: { 200: CustomerProfile, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => present(await getCustomer(ctx, request.principal.workspaceId, request.params.id)),
  );

  app.get(
    '/customers/:id/timeline',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getCustomerTimeline',
        summary: "The customer's events and touchpoints (tickets later), newest first",
        description:
          'Events are placed at occurred_at, touchpoints at due_at (planned ones are in the future, so ' +
          'they come first). Ties are broken by kind, then id.',
        params: CustomerParams,
        querystring: ListQuery,
        response: { 200: ListOf(Type.Ref('TimelineItem')), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const result = await customerTimeline(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.query,
      );
      return {
        data: result.data.map((entry) =>
          entry.kind === 'event'
            ? { kind: 'event' as const, ...presentEvent(entry.event) }
            : { kind: 'touchpoint' as const, ...presentTouchpoint(entry.touchpoint) },
        ),
        next_cursor: result.next_cursor,
      };
    },
  );

  app.get(
    '/customers/:id/touchpoints',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'listCustomerTouchpoints',
        summary: "The customer's touchpoints, earliest due first",
        params: CustomerParams,
        querystring: ListQuery,
        response: { 200: ListOf(Type.Ref('Touchpoint')), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const result = await customerTouchpoints(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.query,
      );
      return { data: result.data.map(presentTouchpoint), next_cursor: result.next_cursor };
    },
  );

  app.put(
    '/customers/:id/consent/:channel',
    {
      config: { access: 'events:write' },
      schema: {
        tags,
        operationId: 'setCustomerConsent',
        summary: 'Opt a customer in or out of a channel',
        params: ConsentParams,
        body: ConsentBody,
        response: { 200: ConsentResult, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) =>
      setConsent(
        ctx,
        request.principal.workspaceId,
        request.params.id,
        request.params.channel,
        request.body.status,
      ),
  );

  app.get(
    '/customers/:id/export',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'exportCustomer',
        summary: 'Everything held about the person, as JSON (data subject access)',
        params: CustomerParams,
        response: { 200: CustomerExport, ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const result = await exportCustomer(ctx, request.principal.workspaceId, request.params.id);
      return {
        exported_at: result.exportedAt.toISOString(),
        customer: present(result.customer),
        events: result.events.map((event) => ({
          ...presentEvent(event),
          customer: (event.customerSnapshot ?? null) as Record<string, unknown> | null,
        })),
        touchpoints: result.touchpoints.map(presentTouchpoint),
      };
    },
  );

  app.delete(
    '/customers/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'eraseCustomer',
        summary: 'Erase the personal data of a customer (LGPD/GDPR); aggregates are kept anonymously',
        description:
          'Name, email, phone, locale, time zone and attributes leave the profile; the customer object, ' +
          'comments, reasons and custom properties leave its events; amounts, types and dates stay so KPIs ' +
          'stay right. The id is replaced by an unlinkable pseudonym: a new event with the old id starts a ' +
          'new customer. The erasure is recorded. A second DELETE answers 404.',
        params: CustomerParams,
        response: { 204: Type.Null({ description: 'Erased' }), ...problems(...AUTH_PROBLEMS, 404) },
      },
    },
    async (request, reply) => {
      await eraseCustomer(ctx, request.principal.workspaceId, request.params.id, request.principal.keyId);
      return reply.code(204).send(null);
    },
  );
};
