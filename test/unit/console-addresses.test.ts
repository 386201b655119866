import { loadConfig } from '../../config';
import { proxyTrust } from '../../console/addresses';

test.each([
  ['127.0.0.1', true],
  ['::1', true],
  ['::ffff:127.0.0.1', true],
  ['10.1.2.3', false],
  ['192.168.1.20', false],
  ['8.8.8.8', false],
  ['', false],
  [undefined, false],
])('by default only loopback is a trusted proxy: %s %s', (address, trusted) => {
  expect(proxyTrust(loadConfig({}).consoleTrustedProxies)(address)).toBe(trusted);
});

test('a configured list of addresses and ranges replaces the default', () => {
  const trust = proxyTrust(loadConfig({ BILLING_CONSOLE_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.20,fd00::/8' }).consoleTrustedProxies);
  expect(['10.1.2.3', '192.168.1.20', 'fd12::1'].map(trust)).toEqual([true, true, true]);
  expect(['127.0.0.1', '192.168.1.21', '11.0.0.1'].map(trust)).toEqual([false, false, false]);
});

test('an entry that is no address, range or name is refused with what is expected', () => {
  for (const bad of ['proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/1', ' , ']) {
    expect(() => loadConfig({ BILLING_CONSOLE_TRUSTED_PROXIES: bad })).toThrow(/BILLING_CONSOLE_TRUSTED_PROXIES.*comma-separated list of addresses, CIDR ranges/);
  }
});
