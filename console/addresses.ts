/**
 * The reverse proxies the console believes (BILLING_CONSOLE_TRUSTED_PROXIES, default `loopback`):
 * only a connection from one of them may name the signed-in member in
 * BILLING_CONSOLE_TRUST_HEADER, and only their X-Forwarded-For and X-Forwarded-Proto are read (the
 * client's address for the sign-in throttle, the Secure flag of the cookies). Matched by
 * @fastify/proxy-addr, as Fastify's own trustProxy matches them: addresses, CIDR ranges and the
 * names `loopback`, `linklocal`, `uniquelocal`.
 */
import proxyAddr from '@fastify/proxy-addr';

export type ProxyTrust = (address: string | undefined) => boolean;

export function proxyTrust(trusted: readonly string[]): ProxyTrust {
  const trusts = proxyAddr.compile([...trusted]);
  return (address) => address !== undefined && address !== '' && trusts(address, 0);
}
