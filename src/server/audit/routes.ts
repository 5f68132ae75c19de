import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../http/context';
import { errorResponseSchema } from '../http/schemas';
import { auditCsv } from './csv';
import type { AuditLog } from './store';

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actorEmail: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  targetName: z.string().nullable(),
  outcome: z.enum(['success', 'failure']),
  clientAddress: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const filtersSchema = z.object({
  action: optional(z.string().max(100)),
  outcome: optional(z.enum(['success', 'failure'])),
  actor: optional(z.string().trim().max(254).describe('Part of the actor\'s email address, any letter case')),
  from: optional(z.iso.datetime({ offset: true }).describe('Entries at or after this moment')),
  to: optional(z.iso.datetime({ offset: true }).describe('Entries before this moment')),
});

/** The most rows one CSV export holds (newest first); narrow the filters for older entries. */
export const CSV_EXPORT_MAX_ROWS = 10_000;

export function registerAuditRoutes(app: FastifyInstance, deps: { audit: AuditLog }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Audit'],
        summary: "The partner's audit log, newest first",
        querystring: filtersSchema.extend({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: optional(z.string().max(200)),
        }),
        response: { 200: z.object({ items: z.array(eventSchema), nextCursor: z.string().nullable() }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request) => deps.audit.list(requireAuth(request).partner.id, request.query),
  );

  // Untyped on purpose: its 200 is CSV text, which the typed provider would hold to a JSON schema.
  app.get(
    '/api/audit/export.csv',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Audit'],
        summary: `The audit log as CSV (same filters, newest first, at most ${CSV_EXPORT_MAX_ROWS} rows)`,
        querystring: filtersSchema,
        response: { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const partnerId = requireAuth(request).partner.id;
      const filters = request.query as z.infer<typeof filtersSchema>;
      const events = await deps.audit.export(partnerId, filters, CSV_EXPORT_MAX_ROWS);
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="tenantgate-audit-${day}.csv"`)
        .send(auditCsv(events));
    },
  );
}
