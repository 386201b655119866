import { formatTime } from '../../console/render';

test('moments read to the minute in UTC; dates and other text stay as they are', () => {
  expect(formatTime('2026-12-02T14:04:59Z')).toBe('2026-12-02 14:04 UTC');
  expect(formatTime('2026-12-02T15:04:59.123+01:00')).toBe('2026-12-02 14:04 UTC');
  expect(formatTime(new Date('2026-12-02T14:04:59Z'))).toBe('2026-12-02 14:04 UTC');
  expect(formatTime('2026-12-31')).toBe('2026-12-31');
  expect(formatTime(null)).toBe('');
  expect(formatTime(undefined)).toBe('');
});
