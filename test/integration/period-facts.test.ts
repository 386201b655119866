/**
 * The facts of a subscriber's terms for a month, read from a real PostgreSQL by the one function
 * every allowance comes from (db/terms.ts periodFacts, issue 13): the policy in effect when the
 * month began, the plan they carry, their approved limits; termsForPeriod makes the terms.
 */
import { localDayBounds } from '../../billing/abuse';
import { allowanceSeconds, monthlyLimitMinutes } from '../../billing/rating';
import { termsForPeriod } from '../../billing/terms';
import { createLimitRequest, grantLimit } from '../../db/limit-requests';
import { NoPolicyInEffectError, policyInEffectOn } from '../../db/policies';
import { getSubscriber, type Subscriber } from '../../db/subscribers';
import { periodFacts } from '../../db/terms';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';

let db: TestDatabase;
let mia: Subscriber;

beforeAll(async () => {
  db = await createTestDatabase();
  await givenSubscriber(db.pool, { id: 'mia', serviceStart: '2027-03-20', monthlyFeeCents: 1000 });
  mia = (await getSubscriber(db.pool, 'mia'))!;
  const request = await createLimitRequest(db.pool, { subscriberId: 'mia', minutes: 4000, reason: 'call centre', actor: 'test' });
  await grantLimit(db.pool, 'mia', { requestId: request.id, minutes: 4000, fromPeriod: '2027-04', untilPeriod: '2027-05' });
  await db.pool.query(`INSERT INTO subscriber_plans (subscriber_id, effective_period, minutes, fee_cents, reason) VALUES ('mia', '2027-05', 500, 1500, '{}')`);
});

afterAll(async () => {
  await db?.drop();
});

const minutes = (n: number): number => n * 60;

test('a first partial month, a granted limit, a plan and a termination make the allowance of each month', async () => {
  const march = await periodFacts(db.pool, mia, '2027-03');
  expect(march).toMatchObject({ period: '2027-03', timezone: 'UTC', monthlyFeeCents: 1000, serviceStart: '2027-03-20', plan: null, policy: { version: 1 } });
  expect(march.grants).toEqual([expect.objectContaining({ minutes: 4000, fromPeriod: '2027-04', untilPeriod: '2027-05' })]);
  expect(allowanceSeconds(termsForPeriod(march))).toBe(minutes(Math.ceil((2400 * 12) / 31)));

  const april = termsForPeriod(await periodFacts(db.pool, mia, '2027-04'));
  expect(allowanceSeconds(april)).toBe(minutes(4000));
  expect(monthlyLimitMinutes(april)).toBe(4000);
  const may = termsForPeriod(await periodFacts(db.pool, mia, '2027-05'));
  expect(allowanceSeconds(may)).toBe(minutes(4500));
  expect(monthlyLimitMinutes(may)).toBe(4000);
  const june = await periodFacts(db.pool, mia, '2027-06', { serviceEndMs: localDayBounds('2027-06-12', 'UTC').startMs + 3_600_000 });
  expect(june.plan).toEqual({ minutes: 500, feeCents: 1500 });
  expect(termsForPeriod(june).proration).toEqual({ days: 12, ofDays: 30 });
  expect(allowanceSeconds(termsForPeriod(june))).toBe(minutes(Math.ceil((2900 * 12) / 30)));
});

test('the policy is the one in effect on the first day of the month, read through a cache when given; none is an error', async () => {
  const days: string[] = [];
  const facts = await periodFacts(db.pool, mia, '2027-04', {
    policyOn: (day) => {
      days.push(day);
      return policyInEffectOn(db.pool, day);
    },
  });
  expect(days).toEqual(['2027-04-01']);
  expect(facts.policy.version).toBe(1);
  await expect(periodFacts(db.pool, mia, '1999-12')).rejects.toThrow(NoPolicyInEffectError);
});
