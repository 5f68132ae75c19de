import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../audit/store';
import { clientAddress } from '../http/context';
import { oncePerWindow } from '../security/once-per-window';
import { errorResponseSchema } from '../http/schemas';
import { outcomeUrl, SettledFlowError } from './outcome';
import { portalPagePath } from './portal-pages';
import { installBrowserBinding, readBrowserBinding, type BrowserBindingSettings } from './binding';
import type { FlowPurpose, FlowStore } from './store';
import type { FlowFinisher, FlowResult } from './types';

export type { FlowFinisher } from './types';

/** An address without a portal session leaves at most one audit entry of refused states per this window. */
export const ANONYMOUS_STATE_AUDIT_WINDOW_MS = 10 * 60_000;

/**
 * The one redirect URI registered with Microsoft. It consumes the flow named by `state` (single use,
 * bound to this browser, 10-minute life) and hands it to the feature that started it.
 */
export function registerMicrosoftCallbackRoutes(
  app: FastifyInstance,
  deps: { flows: FlowStore; finishers: Partial<Record<FlowPurpose, FlowFinisher>>; setSessionCookie: (reply: FastifyReply, token: string) => void; binding: BrowserBindingSettings; audit: Pick<AuditLog, 'record'> },
) {
  installBrowserBinding(app, deps.binding);
  const firstFromAddress = oncePerWindow(ANONYMOUS_STATE_AUDIT_WINDOW_MS);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const text = z.string().max(4096).optional();

  r.get(
    '/auth/microsoft/callback',
    {
      config: { access: 'public', readsSession: true },
      schema: {
        tags: ['Microsoft'],
        summary: 'Redirect URI: finishes app profile creation, re-authorization and single sign-on',
        querystring: z.object({ state: text, code: text, error: text, error_description: text, session_state: text, client_info: text }).loose(),
        response: { 400: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const flow = await deps.flows.redeem(q.state ?? '', readBrowserBinding(request));
      if (!flow) {
        request.log.warn('Microsoft callback with an unknown, used, expired or foreign state');
        // A replayed state, or one from another browser (login CSRF), leaves a trace for the partner's
        // administrators when a portal session delivered it, and in the partner-less log otherwise: there
        // once per address and window, so made-up states sent by the thousand do not flood the audit log.
        if (request.auth || firstFromAddress(clientAddress(request))) {
          await deps.audit.record({
            partnerId: request.auth?.partner.id ?? null,
            actor: { userId: request.auth?.user.id ?? null, email: request.auth?.user.email ?? null },
            action: 'microsoft.callback',
            outcome: 'failure',
            clientAddress: clientAddress(request),
            details: { code: 'STATE_INVALID', reason: 'The state is unknown, used, expired or was issued to another browser.', withCode: Boolean(q.code) },
          });
        }
        const page = request.auth ? '/settings/app-profiles' : '/signin';
        return reply.redirect(page === '/signin' ? '/signin?error=STATE_INVALID' : outcomeUrl(page, { result: 'error', code: 'STATE_INVALID' }), 303);
      }
      const finisher = deps.finishers[flow.purpose];
      if (!finisher) return reply.redirect('/', 303);
      let result: FlowResult;
      try {
        result = await finisher(flow, { code: q.code, error: q.error, errorDescription: q.error_description }, request.auth, clientAddress(request));
      } catch (error) {
        if (!(error instanceof SettledFlowError)) throw error;
        request.log.error({ err: error.cause, purpose: flow.purpose }, 'A Microsoft round trip failed unexpectedly; its outcome page says so');
        return reply.redirect(portalPagePath(error.location) ?? '/', 303);
      }
      for (const incident of result.incidents ?? []) request.log.error({ err: incident, purpose: flow.purpose }, 'A Microsoft round trip went on past an unexpected failure');
      if (result.sessionToken) deps.setSessionCookie(reply, result.sessionToken);
      // The last gate before the browser moves: only the portal's own pages.
      return reply.redirect(portalPagePath(result.location) ?? '/', 303);
    },
  );

  r.get(
    '/auth/microsoft/signed-out',
    { config: { access: 'public' }, schema: { tags: ['Microsoft'], summary: 'Post-logout redirect URI: continues "Sign out and use another account"' } },
    async (request, reply) => {
      const next = await deps.flows.takeContinuation(readBrowserBinding(request));
      return reply.redirect(next ?? '/', 303);
    },
  );
}
