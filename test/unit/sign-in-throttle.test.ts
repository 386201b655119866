import { MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_LOGIN, signInBlockedText, signInBlockedUntil, throttledLogin } from '../../billing/sign-in-throttle';

const at = Date.parse('2026-12-02T10:00:00Z');
const none = { count: 0, oldestMs: null };

test('a login is refused from its fifth failure in the window until the window has passed since the oldest', () => {
  expect(signInBlockedUntil({ login: { count: MAX_FAILURES_PER_LOGIN - 1, oldestMs: at }, address: none })).toBeUndefined();
  expect(signInBlockedUntil({ login: { count: MAX_FAILURES_PER_LOGIN, oldestMs: at }, address: none })).toBe(at + 15 * 60_000);
});

test('an address is refused from its twentieth failure; the later of the two ends wins', () => {
  expect(signInBlockedUntil({ login: none, address: { count: MAX_FAILURES_PER_ADDRESS - 1, oldestMs: at } })).toBeUndefined();
  expect(signInBlockedUntil({ login: { count: 9, oldestMs: at }, address: { count: MAX_FAILURES_PER_ADDRESS, oldestMs: at + 60_000 } })).toBe(at + 16 * 60_000);
});

test('logins are counted without case or surrounding space; the refusal names the minute to come back', () => {
  expect(throttledLogin(' Sam@Example.COM ')).toBe('sam@example.com');
  expect(signInBlockedText(at + 15 * 60_000 + 1)).toContain('try again after 10:16 UTC');
});
