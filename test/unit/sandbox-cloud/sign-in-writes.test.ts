import { describe, expect, it } from 'vitest';
import { loadFixtureFile, SAMPLE_FIXTURE_PATH } from '../../../src/sandbox-cloud/fixture';
import { startAuthorize, submitSignIn, type FlowContext } from '../../../src/sandbox-cloud/identity/authorize-flow';
import { SandboxState } from '../../../src/sandbox-cloud/state';
import type { StateSink, StateTable } from '../../../src/sandbox-cloud/state-sink';

const REDIRECT_URI = 'http://localhost:3999/callback';

/** A sandbox state (sample tenants, one app) whose writes to the state folder are counted per table. */
function countedState() {
  const puts: StateTable[] = [];
  const sink: StateSink = { put: (table) => void puts.push(table), remove: () => undefined, setMeta: () => undefined, appendChange: () => undefined };
  const state = new SandboxState(sink);
  state.installFixture(loadFixtureFile(SAMPLE_FIXTURE_PATH));
  const { clientId } = state.apps.register({ displayName: 'Probe', redirectUris: [REDIRECT_URI] });
  return { state, clientId, sessionWrites: () => puts.filter((t) => t === 'sessions').length };
}

function signIn(ctx: FlowContext, clientId: string, email: string) {
  const params = { client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid User.Read', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', prompt: 'login' };
  const shown = startAuthorize(ctx, 'organizations', params);
  expect(shown.kind).toBe('page');
  const flow = [...ctx.state.flows.values()].at(-1)!;
  return submitSignIn(ctx, flow, email, 'Passw0rd!');
}

describe('sandbox sign-in sessions', () => {
  it('writes the browser session once per sign-in', () => {
    const { state, clientId, sessionWrites } = countedState();
    const first = signIn({ state, cloud: 'global', session: undefined }, clientId, 'admin@contoso.com');
    expect(first.newSession?.accounts.size).toBe(1);
    expect(sessionWrites()).toBe(1);

    // A second account on the same browser: the session it has gets the account, written once more.
    const second = signIn({ state, cloud: 'global', session: first.newSession }, clientId, 'megan@contoso.com');
    expect(second.newSession).toBeUndefined();
    expect(state.sessions.find('global', first.newSession!.id)?.accounts.size).toBe(2);
    expect(sessionWrites()).toBe(2);
  });
});
