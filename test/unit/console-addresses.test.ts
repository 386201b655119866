import { isProxyAddress } from '../../console/addresses';

test.each([
  ['127.0.0.1', true],
  ['::1', true],
  ['::ffff:127.0.0.1', true],
  ['10.1.2.3', true],
  ['172.16.0.9', true],
  ['172.31.255.1', true],
  ['192.168.1.20', true],
  ['169.254.1.1', true],
  ['fd12:3456::1', true],
  ['fe80::1', true],
  ['172.32.0.1', false],
  ['8.8.8.8', false],
  ['::ffff:8.8.8.8', false],
  ['2001:db8::1', false],
  ['', false],
  [undefined, false],
])('%s may be a trusted proxy: %s', (address, trusted) => {
  expect(isProxyAddress(address)).toBe(trusted);
});
