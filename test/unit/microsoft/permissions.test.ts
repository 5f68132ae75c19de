import { describe, expect, it } from 'vitest';
import {
  APP_PROFILE_SCOPES,
  GRAPH_PERMISSION_NAMES,
  GRAPH_PERMISSIONS,
  MICROSOFT_GRAPH_APP_ID,
  OIDC_SCOPE_IDS,
  SSO_SCOPES,
  isGraphPermission,
  missingPermissions,
  requiredResourceAccess,
} from '../../../src/server/microsoft/permissions';
import { CLOUDS, CLOUD_INFO, defaultCloudEndpoints, graphBaseFor, isCloud } from '../../../src/server/microsoft/clouds';

describe('Graph permissions table', () => {
  it('holds the seven delegated permissions with Microsoft ids and consent texts', () => {
    expect(GRAPH_PERMISSION_NAMES).toEqual([
      'User.Read',
      'User.Read.All',
      'Group.Read.All',
      'Directory.Read.All',
      'GroupMember.Read.All',
      'Organization.Read.All',
      'Domain.Read.All',
    ]);
    expect(GRAPH_PERMISSIONS['User.Read']).toEqual({
      id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d',
      consentText: 'Sign in and read user profile',
      adminConsent: false,
    });
    expect(GRAPH_PERMISSIONS['User.Read.All'].consentText).toBe("Read all users' full profiles");
    expect(GRAPH_PERMISSIONS['GroupMember.Read.All'].id).toBe('bc024368-1153-4739-b217-4326f2e966d0');
    expect(GRAPH_PERMISSIONS['Domain.Read.All'].id).toBe('2f9ee017-59c1-4f1d-9472-bd5529a7b311');
    for (const p of GRAPH_PERMISSION_NAMES.filter((n) => n !== 'User.Read')) {
      expect(GRAPH_PERMISSIONS[p].adminConsent).toBe(true);
    }
    expect(new Set(Object.values(GRAPH_PERMISSIONS).map((p) => p.id)).size).toBe(7);
  });

  it('requests OpenID scopes plus the seven for app profiles, and for single sign-on only what checks the person’s own groups', () => {
    expect(APP_PROFILE_SCOPES.slice(0, 3)).toEqual(['openid', 'profile', 'offline_access']);
    expect(APP_PROFILE_SCOPES.slice(3)).toEqual(GRAPH_PERMISSION_NAMES);
    // No offline_access: the person's token is used once, during the sign-in, and never stored.
    expect(SSO_SCOPES).toEqual(['openid', 'profile', 'email', 'User.Read', 'GroupMember.Read.All']);
  });

  it('recognises permission names exactly', () => {
    expect(isGraphPermission('Group.Read.All')).toBe(true);
    expect(isGraphPermission('Group.ReadWrite.All')).toBe(false);
    expect(isGraphPermission('toString')).toBe(false);
  });
});

describe('missingPermissions', () => {
  it('is empty when everything was granted, whatever the case and resource prefix', () => {
    const granted = [
      'https://graph.microsoft.com/User.Read',
      'https://graph.microsoft.us/user.read.all',
      'GROUP.READ.ALL',
      'Directory.Read.All GroupMember.Read.All',
      'Organization.Read.All',
      'https://graph.microsoft.com/Domain.Read.All',
      'openid',
    ];
    expect(missingPermissions(granted)).toEqual([]);
  });

  it('names what is missing, in table order', () => {
    expect(missingPermissions(['User.Read', 'openid', 'profile', 'offline_access', 'Group.Read.All'])).toEqual([
      'User.Read.All',
      'Directory.Read.All',
      'GroupMember.Read.All',
      'Organization.Read.All',
      'Domain.Read.All',
    ]);
    expect(missingPermissions([])).toHaveLength(7);
  });

  it('does not accept a broader-looking but different permission', () => {
    expect(missingPermissions(['User.ReadWrite.All', 'Group.ReadWrite.All', ...GRAPH_PERMISSION_NAMES.slice(2)])).toEqual([
      'User.Read',
      'User.Read.All',
    ]);
  });
});

describe('requiredResourceAccess', () => {
  it('is one Microsoft Graph block with the seven permissions and the four OpenID scopes as Scope entries', () => {
    const block = requiredResourceAccess();
    expect(block).toHaveLength(1);
    expect(block[0].resourceAppId).toBe(MICROSOFT_GRAPH_APP_ID);
    const ids = block[0].resourceAccess.map((a) => a.id);
    expect(ids).toHaveLength(11);
    expect(new Set(ids).size).toBe(11);
    expect(block[0].resourceAccess.every((a) => a.type === 'Scope')).toBe(true);
    for (const p of GRAPH_PERMISSION_NAMES) expect(ids).toContain(GRAPH_PERMISSIONS[p].id);
    expect(ids).toContain('37f7f235-527c-4136-accd-4a02d197296e'); // openid
    expect(ids).toContain(OIDC_SCOPE_IDS.offline_access);
    expect(ids).not.toContain('37f7f235-527c-4136-accc-4a8f8dc2a4a0');
  });
});

describe('clouds', () => {
  it('lists every cloud with its label, hosts and app registration settings', () => {
    expect(CLOUDS).toEqual(['global', 'usgov', 'china']);
    expect(CLOUD_INFO.global.label).toBe('Global Microsoft 365');
    expect(defaultCloudEndpoints().global).toEqual({
      login: 'https://login.microsoftonline.com',
      graph: 'https://graph.microsoft.com',
      graphHosts: { 'graph.microsoft.com': 'https://graph.microsoft.com' },
    });
    expect(CLOUD_INFO.usgov.label).toBe('Microsoft 365 U.S. Government');
    expect(defaultCloudEndpoints().usgov).toMatchObject({ login: 'https://login.microsoftonline.us', graph: 'https://graph.microsoft.us' });
    expect(CLOUD_INFO.china).toMatchObject({
      label: 'Microsoft 365 operated by 21Vianet',
      env: { clientId: 'MICROSOFT_CHINA_CLIENT_ID', clientSecret: 'MICROSOFT_CHINA_CLIENT_SECRET' },
      loginHost: 'login.partner.microsoftonline.cn',
      graphHosts: ['microsoftgraph.chinacloudapi.cn'],
    });
    expect(isCloud('usgov')).toBe(true);
    expect(isCloud('china')).toBe(true);
    expect(isCloud('germany')).toBe(false);
    expect(isCloud(undefined)).toBe(false);
  });

  it('maps a profile\'s Graph host to the deployment\'s base URL: live https://host, the sandbox a prefix', () => {
    const live = defaultCloudEndpoints().usgov;
    expect(graphBaseFor(live, 'dod-graph.microsoft.us')).toBe('https://dod-graph.microsoft.us');
    expect(graphBaseFor(live, '')).toBe('https://graph.microsoft.us');
    expect(graphBaseFor(live, 'evil.example.com')).toBe('https://graph.microsoft.us');
    const sandbox = { login: 'http://127.0.0.1:3100/usgov/login', graph: 'http://127.0.0.1:3100/usgov/graph', graphHosts: { 'dod-graph.microsoft.us': 'http://127.0.0.1:3100/usgov-dod/graph' } };
    expect(graphBaseFor(sandbox, 'DOD-graph.microsoft.us')).toBe('http://127.0.0.1:3100/usgov-dod/graph');
  });
});

