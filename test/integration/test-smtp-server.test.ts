/**
 * The tests' SMTP server (test/helpers/smtp.ts) behaves as a real one when a client dies in the
 * middle of a conversation (a worker SIGKILLed while it mails, as test/e2e/scale-out.test.ts
 * does): the reset connection is dropped and the server goes on taking mail. Before, the reset
 * was an unhandled 'error' event and failed the whole test file ("read ECONNRESET").
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import { startSmtpServer } from '../helpers/smtp';

test('a client reset in the middle of its conversation does not stop the server', async () => {
  const smtp = await startSmtpServer();
  try {
    const { port } = new URL(smtp.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    const answer = (): Promise<void> => new Promise<void>((resolve) => socket.once('data', () => resolve()));
    // The greeting, EHLO, then MAIL FROM: a message is under way when the client dies (a reset
    // before MAIL FROM the library takes quietly itself).
    await answer();
    socket.write('EHLO dying-worker\r\n');
    await answer();
    socket.write('MAIL FROM:<billing@redconnect.test>\r\n');
    await answer();
    socket.resetAndDestroy();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));

    const mailer = nodemailer.createTransport({ url: smtp.url });
    await mailer.sendMail({ from: 'billing@redconnect.test', to: 'alice@example.test', subject: 'after the reset', text: 'still here' });
    expect((await smtp.waitForCount(1)).map((m) => m.subject)).toEqual(['after the reset']);
  } finally {
    await smtp.close();
  }
});
