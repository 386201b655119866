import fc from 'fast-check';
import { alertMonth } from '../../billing/alerts';
import { comparePeriods, nextPeriod, periodOf, previousPeriod } from '../../billing/periods';

describe('alertMonth: which months are alerted, and how', () => {
  const now = Date.parse('2027-05-01T06:00:00Z'); // 02:00 on 1 May in New York, 08:00 in Paris

  test('the month in progress is open; the one just over in the zone is ended (its grace window); older ones are history', () => {
    expect(alertMonth('2027-05', now, 'America/New_York', '2027-01-01')).toBe('open');
    expect(alertMonth('2027-04', now, 'America/New_York', '2027-01-01')).toBe('ended');
    expect(alertMonth('2027-03', now, 'America/New_York', '2027-01-01')).toBeUndefined();
    // Three hours earlier it is still 30 April in New York: April is open there.
    expect(alertMonth('2027-04', now - 3 * 3_600_000, 'America/New_York', '2027-01-01')).toBe('open');
  });

  test('no month before the one of the service start; the start month itself is alerted', () => {
    expect(alertMonth('2027-04', now, 'UTC', '2027-05-20')).toBeUndefined();
    expect(alertMonth('2027-05', now, 'UTC', '2027-05-20')).toBe('open');
    expect(alertMonth('2027-04', now, 'UTC', '2027-04-30')).toBe('ended');
  });

  test('property: ended only for the month before the current one in the zone, never before the service start', () => {
    const zones = ['UTC', 'America/New_York', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/Paris'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2001-01-01'), max: Date.parse('2090-01-01') }),
        fc.constantFrom(...zones),
        fc.integer({ min: -3, max: 2 }),
        fc.integer({ min: -3, max: 3 }),
        (nowMs, zone, offset, startOffset) => {
          const current = periodOf(nowMs, zone);
          let period = current;
          for (let i = 0; i < Math.abs(offset); i += 1) period = offset < 0 ? previousPeriod(period) : nextPeriod(period);
          let start = current;
          for (let i = 0; i < Math.abs(startOffset); i += 1) start = startOffset < 0 ? previousPeriod(start) : nextPeriod(start);
          const month = alertMonth(period, nowMs, zone, `${start}-15`);
          if (comparePeriods(period, start) < 0) expect(month).toBeUndefined();
          else if (period === previousPeriod(current)) expect(month).toBe('ended');
          else if (comparePeriods(period, current) >= 0) expect(month).toBe('open');
          else expect(month).toBeUndefined();
        },
      ),
    );
  });
});
