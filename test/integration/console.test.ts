/**
 * The support console over HTTP (console/server.ts) on a real dev server with a billing worker and
 * a real PostgreSQL: nothing but the sign-in page, the static files and /healthz answers without
 * signing in; a form without this browser's CSRF token is refused; an invalid decision shows the
 * rule's reason and changes nothing; a decision is recorded with the signed-in member; roles and
 * the reverse proxy's header are enforced on the server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { RunningConsole } from '../../console/server';
import { createLimitRequest, getLimitRequest, limitGrantsFor, limitRequestEvents } from '../../db/limit-requests';
import { limitRequestWorkflow } from '../../workflows/limit-request';
import { limitRequestWorkflowId } from '../../workflows/messages';
import { ConsoleBrowser, givenStaff, startTestConsole } from '../helpers/console';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
let consoleApp: RunningConsole;
const taskQueue = 'console-test';
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, shutdownGraceTime: '100 ms' });
  running = worker.run();
  await givenStaff(db.pool, { id: 'sam', password: PASSWORD });
  await givenStaff(db.pool, { id: 'olga', role: 'billing-ops', password: PASSWORD });
  await givenStaff(db.pool, { id: 'old', password: PASSWORD, active: false });
  await givenStaff(db.pool, { id: 'nopass' });
  consoleApp = await startTestConsole({ databaseUrl: db.url, pool: db.pool, client: env.client });
});

afterAll(async () => {
  await consoleApp?.close();
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

const browser = (): ConsoleBrowser => new ConsoleBrowser(consoleApp.url);

async function signedIn(login = 'sam'): Promise<ConsoleBrowser> {
  const b = browser();
  expect(await b.signIn(login, PASSWORD)).toMatchObject({ status: 303, location: '/' });
  return b;
}

async function givenRequest(subscriberId: string): Promise<string> {
  await givenSubscriber(db.pool, { id: subscriberId, name: `${subscriberId} Ltd`, serviceStart: '2026-01-01', business: true });
  const request = await createLimitRequest(db.pool, { subscriberId, minutes: 4000, reason: 'Call centre season', actor: 'test' });
  await env.client.workflow.start(limitRequestWorkflow, {
    workflowId: limitRequestWorkflowId(request.id),
    taskQueue,
    args: [{ requestId: request.id, subscriberId, requestedMinutes: 4000, timezone: 'UTC', currentLimitMinutes: 2400, ceilingMinutes: 20_000, reminderHours: 48, expiryDays: 14 }],
  });
  return request.id;
}

/** The request as support left it: still pending, its trail only its making, no limit granted. */
async function expectUnchanged(requestId: string, subscriberId: string): Promise<void> {
  expect(await getLimitRequest(db.pool, requestId)).toMatchObject({ status: 'pending', reviewer: null });
  expect((await limitRequestEvents(db.pool, requestId)).map((e) => e.kind)).toEqual(['requested']);
  expect(await limitGrantsFor(db.pool, subscriberId)).toEqual([]);
}

test('nothing but the sign-in page, the static files and the health check answers without signing in', async () => {
  const requestId = await givenRequest('anna');
  const anonymous = browser();
  for (const path of ['/', '/subscribers', '/subscribers?q=anna', '/subscribers/anna', '/queue', '/closes', '/policies', `/invoices/x/pdf`, '/nowhere']) {
    const page = await anonymous.get(path);
    expect({ path, status: page.status, location: page.location }).toEqual({ path, status: 303, location: `/sign-in?next=${encodeURIComponent(path)}` });
  }
  const posted = await anonymous.post(`/limit-requests/${requestId}/approve`, { _csrf: await anonymous.csrfToken() });
  expect(posted).toMatchObject({ status: 303, location: '/sign-in?next=%2F' });
  // htmx is told where to go instead of swapping the sign-in page into the queue.
  expect((await anonymous.get('/queue', { 'hx-request': 'true' })).headers.get('hx-redirect')).toBe('/sign-in?next=%2Fqueue');
  await expectUnchanged(requestId, 'anna');

  expect(await anonymous.get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
  expect((await anonymous.get('/static/htmx.min.js')).status).toBe(200);
  expect((await anonymous.get('/static/console.css')).status).toBe(200);
  expect((await anonymous.get('/sign-in')).status).toBe(200);
  // A forged session cookie signs nobody in.
  anonymous.cookies.set('billing_console_session', 'forged.token');
  expect((await anonymous.get('/queue')).status).toBe(303);
});

test('sign-in: one answer for a wrong password, an inactive member and one without a password; sign-out ends the session on the server', async () => {
  for (const [login, password] of [
    ['sam', 'wrong password here'],
    ['old', PASSWORD],
    ['nopass', PASSWORD],
    ['nobody', PASSWORD],
  ]) {
    const page = await browser().signIn(login!, password!);
    expect({ login, status: page.status }).toEqual({ login, status: 401 });
    expect(page.body).toContain('That id or email and password do not match an active staff member.');
  }
  const b = browser();
  // By email too, and back to the page asked for.
  const signIn = await b.post('/sign-in', { _csrf: await b.csrfToken('/sign-in?next=/queue'), login: 'SAM@staff.test', password: PASSWORD, next: '/queue' });
  expect(signIn).toMatchObject({ status: 303, location: '/queue' });
  const session = b.cookies.get('billing_console_session')!;
  expect(await b.get('/queue')).toMatchObject({ status: 200 });
  expect((await b.get('/queue')).body).toContain('sam (support)');

  expect(await b.post('/sign-out', { _csrf: await b.csrfToken('/queue') })).toMatchObject({ status: 303, location: '/sign-in' });
  expect((await b.get('/queue')).status).toBe(303);
  // The cookie, replayed after sign-out, is refused: the session ended in the database.
  b.cookies.set('billing_console_session', session);
  expect((await b.get('/queue')).status).toBe(303);
  const { rows } = await db.pool.query("SELECT count(*)::int AS ended FROM console_sessions WHERE staff_id = 'sam' AND ended_at IS NOT NULL");
  expect(rows[0].ended).toBe(1);
});

test('a deactivated member is signed out at once', async () => {
  await givenStaff(db.pool, { id: 'leaver', password: PASSWORD });
  const b = await signedIn('leaver');
  expect((await b.get('/queue')).status).toBe(200);
  await db.pool.query("UPDATE support_staff SET active = false WHERE id = 'leaver'");
  expect((await b.get('/queue')).status).toBe(303);
});

test('a form without this browser’s CSRF token is refused and changes nothing', async () => {
  const requestId = await givenRequest('bert');
  const b = await signedIn();
  const missing = await b.post(`/limit-requests/${requestId}/approve`, {});
  expect(missing.status).toBe(403);
  expect(missing.body).toContain('Nothing was changed');
  // Another browser's token does not fit this browser's secret either.
  const other = browser();
  const foreign = await b.post(`/limit-requests/${requestId}/approve`, { _csrf: await other.csrfToken() });
  expect(foreign.status).toBe(403);
  // Nor does sign-out without one.
  expect((await b.post('/sign-out', {})).status).toBe(403);
  await expectUnchanged(requestId, 'bert');
});

test('an invalid decision shows the rule’s reason and changes nothing; a valid one is recorded with the signed-in reviewer', async () => {
  const requestId = await givenRequest('carl');
  const b = await signedIn();
  const queue = await b.get('/queue');
  expect(queue.body).toContain(`${requestId}: <a href="/subscribers/carl">carl Ltd</a> asks for 4,000 minutes a month`);
  expect(queue.body).toContain('Call centre season');
  const csrf = await b.csrfToken('/queue');

  // Without JavaScript: the queue again, with the reason beside the request.
  const refused = await b.post(`/limit-requests/${requestId}/approve`, { _csrf: csrf, minutes: '100' });
  expect(refused.status).toBe(422);
  expect(refused.body).toContain('Refused: approve minutes 100 must be above the current limit of 2400 minutes. Nothing was changed.');
  // With htmx: the reason in place (200, so that htmx swaps it in).
  const inPlace = await b.post(`/limit-requests/${requestId}/approve`, { _csrf: csrf, minutes: 'lots' }, { 'hx-request': 'true' });
  expect(inPlace.status).toBe(200);
  expect(inPlace.body).toContain('Refused: minutes &quot;lots&quot; must be a whole number of minutes. Nothing was changed.');
  const noReason = await b.post(`/limit-requests/${requestId}/reject`, { _csrf: csrf, reason: ' ' }, { 'hx-request': 'true' });
  expect(noReason.body).toContain('Refused: reject reason');
  await expectUnchanged(requestId, 'carl');

  // A reviewer field in the form is ignored: the reviewer is the member signed in.
  const approved = await b.post(`/limit-requests/${requestId}/approve`, { _csrf: csrf, minutes: '4500', reviewer: 'olga', note: 'Seasonal' });
  expect(approved).toMatchObject({ status: 303, location: `/queue?decided=${requestId}` });
  expect(await getLimitRequest(db.pool, requestId)).toMatchObject({ status: 'approved', reviewer: 'sam', approvedMinutes: 4500, decisionNote: 'Seasonal' });
  expect((await limitGrantsFor(db.pool, 'carl')).map((g) => g.minutes)).toEqual([4500]);
  const trail = await limitRequestEvents(db.pool, requestId);
  expect(trail.map((e) => e.kind)).toEqual(['requested', 'approved', 'applied']);
  expect(trail[1]!.actor).toBe('sam');

  // The first decision stands: a second one is refused with the reason.
  const again = await b.post(`/limit-requests/${requestId}/reject`, { _csrf: csrf, reason: 'Changed my mind' }, { 'hx-request': 'true' });
  expect(again.body).toContain(`Refused: limit request ${requestId} is already approved by sam`);
  const page = await b.get('/subscribers/carl');
  expect(page.body).toContain('approved by sam: 4500 minutes a month');
  expect(page.body).toContain('4,500 minutes a month, granted by request');
});

test('roles are enforced on the server: billing operations read closes and policies but do not decide; support does not see closes', async () => {
  const requestId = await givenRequest('dora');
  const ops = await signedIn('olga');
  expect((await ops.get('/closes')).status).toBe(200);
  const policies = await ops.get('/policies');
  expect(policies.status).toBe(200);
  expect(policies.body).toContain('v1');
  const queue = await ops.get('/queue');
  expect(queue.body).toContain('Your role reads the queue; support staff decide.');
  expect(queue.body).not.toContain(`action="/limit-requests/${requestId}/approve"`);
  const decided = await ops.post(`/limit-requests/${requestId}/approve`, { _csrf: await ops.csrfToken('/queue') });
  expect(decided.status).toBe(403);
  expect(decided.body).toContain('Your role (billing-ops) may not decide requests and cases');
  await expectUnchanged(requestId, 'dora');

  const support = await signedIn('sam');
  expect((await support.get('/closes')).status).toBe(403);
  expect((await support.get('/policies')).status).toBe(403);
});

test('the subscriber search finds by id, name, email and a number in any written form', async () => {
  await givenSubscriber(db.pool, { id: 'eve', name: 'Eve Example', email: 'eve@customer.test', numbers: ['+14155550199'] });
  const b = await signedIn();
  for (const q of ['eve', 'Example', 'EVE@customer', '(415) 555-0199', '0014155550199', '1-415-555-0199']) {
    const page = await b.get(`/subscribers?q=${encodeURIComponent(q)}`);
    expect({ q, found: page.body.includes('<a href="/subscribers/eve">eve</a>') }).toEqual({ q, found: true });
  }
  expect((await b.get('/subscribers?q=nobody-like-this')).body).toContain('No subscriber matches');
});

test('behind a reverse proxy: its header signs the member in when configured, from a proxy address only', async () => {
  const proxied = await startTestConsole({ databaseUrl: db.url, pool: db.pool, client: env.client, env: { BILLING_CONSOLE_TRUST_HEADER: 'X-Forwarded-User' } });
  try {
    const b = new ConsoleBrowser(proxied.url);
    const page = await b.get('/queue', { 'x-forwarded-user': 'sam' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('sam (support)');
    expect(page.body).not.toContain('Sign out');
    expect((await b.get('/queue', { 'x-forwarded-user': 'old' })).status).toBe(303);
    expect((await b.get('/queue', { 'x-forwarded-user': 'nobody' })).status).toBe(303);
  } finally {
    await proxied.close();
  }
  // Not configured: the header is nobody.
  expect((await browser().get('/queue', { 'x-forwarded-user': 'sam' })).status).toBe(303);
  // From an address that is not one of the configured proxies (a machine of the same network that
  // reaches the console directly), the header is nobody either.
  const elsewhere = await startTestConsole({
    databaseUrl: db.url,
    pool: db.pool,
    client: env.client,
    env: { BILLING_CONSOLE_TRUST_HEADER: 'X-Forwarded-User', BILLING_CONSOLE_TRUSTED_PROXIES: '10.0.0.0/8' },
  });
  try {
    expect((await new ConsoleBrowser(elsewhere.url).get('/queue', { 'x-forwarded-user': 'sam' })).status).toBe(303);
  } finally {
    await elsewhere.close();
  }
});

test('password guessing is slowed down: after five failures a login is refused without a check until the window has passed', async () => {
  await givenStaff(db.pool, { id: 'gus', password: PASSWORD });
  // Failures count for the member whether their id or their email is typed.
  for (const login of ['gus', 'GUS@staff.test', 'gus', 'gus@staff.test', 'gus']) expect((await browser().signIn(login, 'a wrong guess, again')).status).toBe(401);
  const refused = await browser().signIn('gus', PASSWORD);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(refused.body).toContain('Too many failed sign-ins for this id or email, or from this address: try again after');
  // The right password did not sign gus in, and did not count as a failure either.
  const { rows: failures } = await db.pool.query("SELECT count(*)::int AS n, min(address) AS address FROM console_sign_in_failures WHERE login = 'gus'");
  expect(failures[0].n).toBe(5);
  // Another member signs in as before.
  await signedIn('sam');
  // Once the failures are older than the window, gus signs in, and their failures are forgotten.
  await db.pool.query("UPDATE console_sign_in_failures SET failed_at = failed_at - interval '16 minutes' WHERE login = 'gus'");
  expect(await browser().signIn('gus', PASSWORD)).toMatchObject({ status: 303, location: '/' });
  expect((await db.pool.query("SELECT count(*)::int AS n FROM console_sign_in_failures WHERE login = 'gus'")).rows[0].n).toBe(0);

  // Twenty failures from one address stop every login from it, known or not.
  const address = failures[0].address as string;
  await db.pool.query("INSERT INTO console_sign_in_failures (login, address) SELECT 'guess-' || i, $1 FROM generate_series(1, 20) AS i", [address]);
  expect((await browser().signIn('sam', PASSWORD)).status).toBe(429);
  expect((await browser().signIn('nobody-at-all', 'whatever it is')).status).toBe(429);
  await db.pool.query('DELETE FROM console_sign_in_failures WHERE address = $1', [address]);
  await signedIn('sam');
});

test('sessions over for a day are forgotten when someone signs in; the others are kept', async () => {
  await givenStaff(db.pool, { id: 'tess', password: PASSWORD });
  await db.pool.query(
    `INSERT INTO console_sessions (token_sha256, staff_id, expires_at, ended_at) VALUES
       ('old-ended', 'tess', now() + interval '1 hour', now() - interval '25 hours'),
       ('old-expired', 'tess', now() - interval '25 hours', NULL),
       ('recently-ended', 'tess', now() + interval '1 hour', now() - interval '1 hour')`,
  );
  await signedIn('tess');
  const { rows } = await db.pool.query(`SELECT token_sha256 FROM console_sessions WHERE staff_id = 'tess' AND token_sha256 LIKE '%-%' ORDER BY 1`);
  expect(rows.map((r) => r.token_sha256)).toEqual(['recently-ended']);
});
