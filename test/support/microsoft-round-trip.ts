import { expect } from 'vitest';
import type { ApiClient } from './api-client';
import { SandboxUserAgent } from './sandbox-user-agent';

export const SAMPLE_PASSWORD = 'Passw0rd!';
export const CONTOSO = { id: '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10', name: 'Contoso Ltd', domain: 'contoso.com', admin: 'admin@contoso.com', admin2: 'megan@contoso.com', user: 'alex@contoso.com' };
export const NORTHWIND = { id: '7c1e0a55-3d4b-4f8e-9c21-5a6b7c8d9e01', name: 'Northwind Traders', domain: 'northwind.com', admin: 'admin@northwind.com' };
export const FABRIKAM_GOV = { id: '2b8f4c3a-6e1d-4a7b-8c9d-0e1f2a3b4c5d', name: 'Fabrikam Government', domain: 'fabrikamgov.us', admin: 'admin@fabrikamgov.us' };

export interface Outcome {
  location: string;
  result: string | null;
  code: string | null;
  profileId: string | null;
  missing: string | null;
}

/** Follows the portal's answer to the callback and reads the outcome it sends the browser to. */
export async function followCallback(client: ApiClient, redirect: URL): Promise<Outcome> {
  const res = await client.get(`${redirect.pathname}${redirect.search}`);
  expect(res.status).toBe(303);
  const location = res.headers.get('location')!;
  const url = new URL(location, client.baseUrl);
  const p = url.searchParams;
  return { location, result: p.get('result'), code: p.get('code'), profileId: p.get('profileId'), missing: p.get('missing') };
}

export interface MicrosoftActions {
  email?: string;
  password?: string;
  consent?: 'accept' | 'cancel';
  pickAccount?: string | 'another';
}

/** An administrator's browser: the portal API client plus a browser at the sandbox cloud. */
export class AdminBrowser {
  readonly microsoft = new SandboxUserAgent();
  constructor(readonly portal: ApiClient) {}

  /** "Create" → name → cloud → OK → Microsoft sign-in → consent → back on the page. */
  async createProfile(name: string, actions: MicrosoftActions, cloud: 'global' | 'usgov' | 'china' = 'global'): Promise<Outcome> {
    const start = await this.portal.post('/api/app-profiles', { name, cloud });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    return this.roundTrip(start.body.authorizationUrl, actions);
  }

  async reauthorize(profileId: string, account: 'current' | 'another', actions: MicrosoftActions): Promise<Outcome> {
    const start = await this.portal.post(`/api/app-profiles/${profileId}/reauthorize`, { account });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    let url: string = start.body.authorizationUrl;
    if (account === 'another') {
      // Microsoft signs the browser out and sends it to the portal, which continues to the sign-in page.
      const signedOut = await this.microsoft.logout(url);
      const cont = await this.portal.get(`${signedOut.pathname}${signedOut.search}`);
      expect(cont.status).toBe(303);
      url = cont.headers.get('location')!;
    }
    return this.roundTrip(url, actions);
  }

  async roundTrip(authorizationUrl: string, actions: MicrosoftActions): Promise<Outcome> {
    const redirect = await this.microsoft.authorize(authorizationUrl, actions);
    return followCallback(this.portal, redirect);
  }
}
