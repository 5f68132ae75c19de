import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { migrationsApplied } from '../db/migrate';
import type { Services } from '../services';
import { sql } from 'kysely';

export function registerSystemRoutes(app: FastifyInstance, services: Services) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/healthz', { config: { access: 'public' }, schema: { tags: ['System'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  r.get(
    '/readyz',
    { config: { access: 'public' }, schema: { tags: ['System'], summary: 'The database is reachable and migrated', response: { 200: z.object({ status: z.literal('ready') }), 503: z.object({ status: z.literal('not_ready'), reason: z.string() }) } } },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(services.db);
        if (!(await migrationsApplied(services.db))) return reply.code(503).send({ status: 'not_ready' as const, reason: 'migrations pending' });
        return { status: 'ready' as const };
      } catch {
        return reply.code(503).send({ status: 'not_ready' as const, reason: 'database unreachable' });
      }
    },
  );

  r.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  r.get(
    '/api/sandbox',
    {
      config: { access: 'public' },
      schema: {
        tags: ['System'],
        summary: 'Where the sandbox cloud answers, in sandbox mode',
        response: { 200: z.object({ enabled: z.boolean(), baseUrl: z.string().optional() }) },
      },
    },
    async () => (services.sandboxBaseUrl ? { enabled: true, baseUrl: services.sandboxBaseUrl } : { enabled: false }),
  );
}
