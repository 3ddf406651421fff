import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The kind of address ("loopback", "private" …) when it may not receive webhooks, or
 * undefined when it may. Only public unicast
 * addresses pass: loopback, private (RFC 1918, ULA), link-local (cloud metadata at
 * 169.254.169.254), unspecified, CGNAT, multicast, broadcast, documentation and the other
 * reserved ranges are refused. IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4
 * address it carries; NAT64, 6to4 and Teredo forms, which embed IPv4 too, are refused whole.
 */
export function forbiddenRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'unparsable';
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? undefined : describe(range);
}

function describe(range: string): string {
  switch (range) {
    case 'private':
    case 'uniqueLocal':
      return 'private';
    case 'linkLocal':
      return 'link-local';
    case 'carrierGradeNat':
      return 'carrier-grade NAT';
    default:
      return range.replace(/([A-Z])/g, ' $1').toLowerCase();
  }
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Thrown by the guarded lookup; carries the reason for the delivery log. */
export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
}

/**
 * Resolves `host` and returns why it may not be used (the first forbidden address found), or
 * undefined when every address it resolves to is public. A host that does not resolve is refused.
 */
export async function checkHost(host: string): Promise<string | undefined> {
  if (ipaddr.isValid(host)) {
    const range = forbiddenRange(host);
    return range && `${host} is a ${range} address`;
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  } catch {
    return `${host} does not resolve`;
  }
  if (addresses.length === 0) return `${host} does not resolve`;
  for (const { address } of addresses) {
    const range = forbiddenRange(address);
    if (range) return `${host} resolves to ${address}, a ${range} address`;
  }
  return undefined;
}

/**
 * A `lookup` for http.request that refuses to connect when any address the name resolves to
 * is forbidden. It runs at connect time, on the very addresses the socket will use, so a name
 * that resolved to a public address when the endpoint was created and to a private one now
 * (DNS rebinding) is still refused.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    for (const { address } of addresses) {
      const range = forbiddenRange(address);
      if (range) {
        const error = new ForbiddenAddressError(`${hostname} resolves to ${address}, a ${range} address`);
        return callback(error, '', 0);
      }
    }
    if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '', 0);
    return callback(null, first.address, first.family);
  });
};
