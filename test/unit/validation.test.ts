/** The core's rules for input from outside (billing/validation.ts), as the CLI and workflows call them. */
import { z } from 'zod';
import { closePeriodProblem, payloadProblem, serviceStartProblem } from '../../billing/validation';

describe('serviceStartProblem: a service start before the first policy version can never be billed', () => {
  test('refuses a day before the first version took effect, naming both', () => {
    expect(serviceStartProblem('1970-01-01', '2000-01-01')).toBe(
      '--since 1970-01-01 is before 2000-01-01, when the first policy version took effect: no month before it can be billed; give the real service start, from 2000-01-01',
    );
    expect(serviceStartProblem('1999-12-31', '2000-01-01')).toContain('is before 2000-01-01');
  });
  test('takes the day itself and every day after', () => {
    expect(serviceStartProblem('2000-01-01', '2000-01-01')).toBeUndefined();
    expect(serviceStartProblem('2026-10-15', '2000-01-01')).toBeUndefined();
  });
});

describe('closePeriodProblem: from the first policy month to the last month that is over', () => {
  const at = { nowMs: Date.parse('2026-11-15T12:00:00Z'), firstPolicyDay: '2000-01-01', graceHours: 6 };
  test('a month before any policy version has nothing to close', () => {
    expect(closePeriodProblem('0000-01', at)).toBe(
      '--period 0000-01 is before 2000-01, the first month a policy version is in effect (from 2000-01-01): there is nothing to close',
    );
    expect(closePeriodProblem('1999-12', at)).toContain('--period 1999-12 is before 2000-01');
    expect(closePeriodProblem('2000-01', at)).toBeUndefined();
  });
  test('a month not over yet, or not begun, cannot be closed', () => {
    expect(closePeriodProblem('2026-11', at)).toBe(
      '2026-11 is not over yet; it can be closed from 2026-11-30T10:00:00.000Z (each subscriber is closed after the month ends in their zone plus 6 h)',
    );
    expect(closePeriodProblem('9999-12', at)).toContain('9999-12 is not over yet');
    expect(closePeriodProblem('2026-10', at)).toBeUndefined();
  });
  test('the month is over once it has ended at UTC+14', () => {
    expect(closePeriodProblem('2026-11', { ...at, nowMs: Date.parse('2026-11-30T10:00:00Z') })).toBeUndefined();
    expect(closePeriodProblem('2026-11', { ...at, nowMs: Date.parse('2026-11-30T09:59:59Z') })).toContain('not over yet');
  });
});

describe('payloadProblem: a signal payload that does not fit, in one line naming the field and value', () => {
  const schema = z.object({ caseId: z.string(), until: z.number().optional(), nested: z.object({ n: z.number() }).optional() }).strict();
  test('a number JSON cannot hold is out of range, wherever it is', () => {
    expect(payloadProblem(schema, JSON.parse('{"caseId": "AC-1", "until": 1e400}'), 'suspend')).toBe(
      'suspend until is a number out of range (such as 1e400, which no number can hold): give a whole number in range',
    );
    expect(payloadProblem(schema, JSON.parse('{"caseId": "AC-1", "nested": {"n": -1e400}}'), 'suspend')).toContain('suspend nested.n is a number out of range');
    expect(payloadProblem(schema, JSON.parse('1e400'), 'suspend')).toContain('suspend payload is a number out of range');
  });
  test('other problems name the value as JSON', () => {
    expect(payloadProblem(schema, 'oops', 'terminate')).toMatch(/^terminate payload "oops" /);
    expect(payloadProblem(schema, { caseId: 'AC-1' }, 'suspend')).toBeUndefined();
  });
});
