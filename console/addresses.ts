/**
 * The addresses a reverse proxy in front of the console may have: loopback, link-local and the
 * private ranges (a proxy on the same host, in the same Compose or cluster network). Only a
 * connection from one of them may name the signed-in member in BILLING_CONSOLE_TRUST_HEADER, and
 * only those are trusted for X-Forwarded-Proto (the Secure flag of the cookies).
 */
export const TRUSTED_PROXIES = ['loopback', 'linklocal', 'uniquelocal'];

function ipv4(address: string): number[] | undefined {
  const text = address.startsWith('::ffff:') ? address.slice(7) : address;
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number);
}

export function isProxyAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = ipv4(address);
  if (v4) {
    const [a, b] = v4 as [number, number, number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const v6 = address.toLowerCase();
  return v6 === '::1' || /^f[cd][0-9a-f]{2}:/.test(v6) || /^fe[89ab][0-9a-f]:/.test(v6);
}
