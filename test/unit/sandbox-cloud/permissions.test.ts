import { describe, expect, it } from 'vitest';
import { cloudUrls } from '../../../src/sandbox-cloud/clouds';
import { parseScopes } from '../../../src/sandbox-cloud/permissions';

const BASE = 'http://127.0.0.1:3100';
const hosts = (cloud: 'global' | 'usgov' | 'china') => cloudUrls(BASE, cloud).graphHosts;

describe('sandbox parseScopes', () => {
  it.each([
    ['DoD', 'usgov', 'https://dod-graph.microsoft.us/'],
    ['DoD (sandbox site)', 'usgov', `${BASE}/usgov-dod/graph/`],
    ['GCC High', 'usgov', 'https://graph.microsoft.us/'],
    ['GCC High (sandbox site)', 'usgov', `${BASE}/usgov/graph/`],
    ['global', 'global', 'https://graph.microsoft.com/'],
    ['global (sandbox site)', 'global', `${BASE}/global/graph/`],
  ] as const)('recognises %s scope URIs', (_name, cloud, prefix) => {
    const parsed = parseScopes(`openid ${prefix}User.Read ${prefix}group.read.all offline_access`, cloud, hosts(cloud));
    expect(parsed).toEqual({ oidc: ['openid', 'offline_access'], graph: ['User.Read', 'Group.Read.All'], graphDefault: false, unknown: [] });
  });

  it.each([
    ['DoD', 'https://dod-graph.microsoft.us/.default'],
    ['GCC High', 'https://graph.microsoft.us/.default'],
  ])('recognises the %s .default scope', (_name, scope) => {
    expect(parseScopes(scope, 'usgov', hosts('usgov'))).toMatchObject({ graph: [], graphDefault: true, unknown: [] });
  });

  it('accepts short names, and refuses another cloud\'s Graph resource and unknown permissions', () => {
    const parsed = parseScopes(
      'Directory.Read.All https://graph.microsoft.com/User.Read https://dod-graph.microsoft.us/Mail.Send',
      'usgov',
      hosts('usgov'),
    );
    expect(parsed.graph).toEqual(['Directory.Read.All']);
    expect(parsed.unknown).toEqual(['https://graph.microsoft.com/User.Read', 'https://dod-graph.microsoft.us/Mail.Send']);
    expect(parseScopes('https://dod-graph.microsoft.us/User.Read', 'global', hosts('global')).unknown).toEqual(['https://dod-graph.microsoft.us/User.Read']);
  });
});
