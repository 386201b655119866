/** Which mail server answers fail an outbox email for good, and which may hide a delivery (billing/mail-delivery.ts). */
import { isPermanentRefusal, mailFailedAlertKey, mayHaveBeenAccepted, serverAnswer } from '../../billing/mail-delivery';

describe('isPermanentRefusal', () => {
  test.each([
    [{ code: 'EENVELOPE', responseCode: 550 }, true],
    [{ code: 'EENVELOPE', responseCode: 553 }, true],
    [{ code: 'EMESSAGE', responseCode: 554 }, true],
    // 503 is a bad sequence of commands, not a refusal of the message
    [{ code: 'EENVELOPE', responseCode: 503 }, false],
    // transient: tried again
    [{ code: 'EENVELOPE', responseCode: 450 }, false],
    [{ code: 'ECONNECTION', responseCode: 421 }, false],
    [{ code: 'ECONNECTION' }, false],
    // the session refused (wrong credentials): the relay's configuration, wrong for every email
    [{ code: 'EAUTH', responseCode: 535 }, false],
  ])('%j → %s', (error, permanent) => {
    expect(isPermanentRefusal(error)).toBe(permanent);
  });
});

describe('mayHaveBeenAccepted', () => {
  test.each([
    // the server answered: it did not take the message
    [{ code: 'EENVELOPE', responseCode: 550 }, false],
    [{ code: 'ECONNECTION', responseCode: 421 }, false],
    // no connection was ever made
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }, false],
    [{ code: 'EDNS', originalCode: 'ENOTFOUND' }, false],
    // lost or timed out without a reply: perhaps after the message was handed over
    [{ code: 'ETIMEDOUT' }, true],
    [{ code: 'ECONNECTION', originalCode: 'ECONNRESET' }, true],
  ])('%j → %s', (error, unknown) => {
    expect(mayHaveBeenAccepted(error)).toBe(unknown);
  });
});

test("the answer recorded is the server's reply when there is one", () => {
  expect(serverAnswer({ message: "Can't send mail - all recipients were rejected: 550 5.1.1 No such user", response: '550 5.1.1 No such user' })).toBe('550 5.1.1 No such user');
  expect(serverAnswer({ message: 'Connection closed unexpectedly' })).toBe('Connection closed unexpectedly');
  expect(mailFailedAlertKey('invoice:INV-2026-10-ada')).toBe('mail-failed:invoice:INV-2026-10-ada');
});
