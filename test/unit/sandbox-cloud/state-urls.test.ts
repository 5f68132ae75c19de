import { describe, expect, it } from 'vitest';
import { SandboxState } from '../../../src/sandbox-cloud/state';

describe('sandbox cloud URLs', () => {
  it('are computed once per cloud and base URL, and follow a new base URL', () => {
    const state = new SandboxState();
    state.baseUrl = 'http://127.0.0.1:3100';
    const usgov = state.urls('usgov');
    expect(usgov).toEqual({
      login: 'http://127.0.0.1:3100/usgov/login',
      graph: 'http://127.0.0.1:3100/usgov/graph',
      graphHosts: { 'graph.microsoft.us': 'http://127.0.0.1:3100/usgov/graph', 'dod-graph.microsoft.us': 'http://127.0.0.1:3100/usgov-dod/graph' },
    });
    expect(state.urls('usgov')).toBe(usgov);
    expect(state.urls('global')).not.toBe(usgov);
    expect(state.urls('global').login).toBe('http://127.0.0.1:3100/global/login');
    // Shared by every request: nobody can change them.
    expect(Object.isFrozen(usgov) && Object.isFrozen(usgov.graphHosts)).toBe(true);

    state.baseUrl = 'http://127.0.0.1:4100';
    expect(state.urls('usgov').graphHosts['dod-graph.microsoft.us']).toBe('http://127.0.0.1:4100/usgov-dod/graph');
  });
});
