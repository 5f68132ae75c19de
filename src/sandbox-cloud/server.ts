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
  acceptJsonOnlyOnControlRoutes(app);
  registerControlRoutes(app, state);
  registerIdentityRoutes(app, state);
  registerGraphRoutes(app, state);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `The sandbox cloud has no route ${request.method} ${request.url.split('?')[0]}.` } }),
  );
  return app;
}

/**
 * The control endpoints change tenants and mint nothing but trust, so no page a developer visits may reach them:
 * a POST must say `Content-Type: application/json` (which no cross-site "simple" request can), other bodies must
 * be JSON too, and no CORS header is ever sent. An empty JSON body reads as `{}`.
 */
function acceptJsonOnlyOnControlRoutes(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/_sandbox/')) return;
    const mediaType = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const hasBody = request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0' || request.headers['transfer-encoding'] !== undefined;
    const needsJson = request.method === 'POST' || hasBody || mediaType !== '';
    if (needsJson && mediaType !== 'application/json') {
      return reply.code(415).send({
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'The sandbox control endpoints take JSON only: send Content-Type: application/json (with {} when there is nothing to say).',
        },
      });
    }
  });
}
