import Fastify, { type FastifyInstance } from 'fastify';
import { registerControlRoutes } from './control';
import { registerGraphRoutes } from './graph/routes';
import { registerFormParser } from './http';
import { registerIdentityRoutes } from './identity/routes';
import type { SandboxState } from './state';

/** One Fastify server: identity platform and Graph of both clouds under path prefixes, plus /_sandbox control. */
export function buildSandboxServer(state: SandboxState, options: { logger?: boolean } = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 50 * 1024 * 1024 });
  registerFormParser(app);
  registerControlRoutes(app, state);
  registerIdentityRoutes(app, state);
  registerGraphRoutes(app, state);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `The sandbox cloud has no route ${request.method} ${request.url.split('?')[0]}.` } }),
  );
  return app;
}
