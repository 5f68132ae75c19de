import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';

/** Why an address is not one a webhook may reach; null for a public unicast address. */
export type AddressClass = 'unspecified' | 'loopback' | 'private' | 'link-local' | 'cgnat' | 'unique-local' | 'multicast' | 'reserved';

/** Live mode: https to public addresses only. Sandbox mode also allows http, and loopback (to try it on one machine). */
export interface WebhookPolicy {
  sandbox: boolean;
}

export class WebhookUrlError extends Error {}

const V4_RANGES: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const v4ToInt = (address: string) => address.split('.').reduce((n, part) => n * 256 + Number(part), 0);

function classifyV4(address: string): AddressClass | null {
  const value = v4ToInt(address);
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    if (value >= start && value < start + size) return kind;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail included); the zone (`%eth0`) dropped. */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0].toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v = v4ToInt(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(rest);
  const zeros = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function classifyV6(address: string): AddressClass | null {
  const g = ipv6Groups(address);
  const embeddedV4 = () => `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  const firstSixZero = g.slice(0, 5).every((x) => x === 0);
  if (firstSixZero && g[5] === 0 && g[6] === 0 && g[7] === 0) return 'unspecified';
  if (firstSixZero && g[5] === 0 && g[6] === 0 && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the embedded IPv4 address.
  if (firstSixZero && (g[5] === 0xffff || g[5] === 0)) return classifyV4(embeddedV4());
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embeddedV4());
  // 6to4 (2002:a.b.c.d::/48) also carries an IPv4 address.
  if (g[0] === 0x2002) return classifyV4(`${g[1] >> 8}.${g[1] & 255}.${g[2] >> 8}.${g[2] & 255}`);
  if ((g[0] & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'private'; // site-local, deprecated
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/** Classifies an IP address (v4 or v6); anything that is not an IP address counts as reserved. */
export function classifyAddress(address: string): AddressClass | null {
  const version = net.isIP(address.split('%')[0]);
  if (version === 4) return classifyV4(address);
  if (version === 6) return classifyV6(address);
  return 'reserved';
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** The URL a webhook may have, in words when not: https (or http in sandbox mode), no credentials, a host. */
export function checkUrlShape(raw: string, policy: WebhookPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError('Enter a full URL, such as https://example.com/tenantgate.');
  }
  if (url.protocol !== 'https:' && !(policy.sandbox && url.protocol === 'http:')) throw new WebhookUrlError('The webhook URL must start with https://.');
  if (url.username || url.password) throw new WebhookUrlError('The webhook URL must not contain a user name or password.');
  if (!url.hostname) throw new WebhookUrlError('The webhook URL has no host.');
  return url;
}

/**
 * Resolves the URL's host and checks every address it resolves to: none may be loopback, private,
 * link-local, CGNAT, unique-local, unspecified, multicast or reserved (sandbox mode allows loopback, and
 * plain http only when every address is loopback). Answers the checked address to connect to, so a DNS
 * answer that changes after the check (rebinding) cannot redirect the request.
 */
export async function resolveWebhookHost(url: URL, policy: WebhookPolicy, resolve: Resolver = systemResolver): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = net.isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new WebhookUrlError(`The host ${host} could not be resolved.`);
    }
  }
  if (addresses.length === 0) throw new WebhookUrlError(`The host ${host} could not be resolved.`);
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (kind === null || (kind === 'loopback' && policy.sandbox)) continue;
    const what = literal ? `${host} is a ${kind} address` : `The host ${host} resolves to a ${kind} address (${address})`;
    throw new WebhookUrlError(`${what}; webhooks go only to public addresses.`);
  }
  if (url.protocol === 'http:' && !addresses.every((a) => classifyAddress(a.address) === 'loopback')) {
    throw new WebhookUrlError('Plain http is allowed only to this machine (loopback) in sandbox mode; use https://.');
  }
  // Every address passed; IPv4 first, which more receivers answer on.
  return addresses.find((a) => a.family === 4) ?? addresses[0];
}
