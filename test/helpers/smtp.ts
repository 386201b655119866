/** A real SMTP server in the test process; what it receives is parsed and kept for assertions. */
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string | undefined;
  attachments: { filename: string | undefined; contentType: string; content: Buffer }[];
}

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** Resolves once at least `count` emails arrived, or throws after `timeoutMs`. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /**
   * An outage: while down, every connection is refused with 421, as by a server out of service,
   * and so is every message on a connection already open (the worker keeps a pool of them).
   */
  setDown(down: boolean): void;
  /** Refuses `address` at RCPT TO with `reply` (a permanent 550 by default), as a server that knows no such mailbox. */
  refuseRecipient(address: string, reply?: { code: number; message: string }): void;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Each message is read, then held this long before it is taken (kept) and confirmed. */
  delayMs?: number;
  /**
   * A relay that confirms slowly: each message is taken (kept, as a relay queues it for delivery)
   * as soon as it is read, and its "250" sent this long after. A client that dies meanwhile
   * never learns that its message went out.
   */
  confirmDelayMs?: number;
}

function addresses(parsed: ParsedMail): string[] {
  const to = parsed.to === undefined ? [] : Array.isArray(parsed.to) ? parsed.to : [parsed.to];
  return to.flatMap((group) => group.value.map((a) => a.address ?? ''));
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let down = false;
  const refused = new Map<string, { code: number; message: string }>();
  const server = new SMTPServer({
    authOptional: true,
    onConnect(_session, callback) {
      if (!down) return callback();
      return callback(Object.assign(new Error('Service not available, closing transmission channel'), { responseCode: 421 }));
    },
    onMailFrom(_address, _session, callback) {
      if (!down) return callback();
      return callback(Object.assign(new Error('Service not available, closing transmission channel'), { responseCode: 421 }));
    },
    onRcptTo(address, _session, callback) {
      const refusal = refused.get(address.address.toLowerCase());
      if (!refusal) return callback();
      return callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
    },
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (parsed) => {
          if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
          received.push({
            to: addresses(parsed),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            messageId: parsed.messageId,
            attachments: parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
          });
          if (options.confirmDelayMs) await new Promise((r) => setTimeout(r, options.confirmDelayMs));
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client that dies in the middle of a message (a worker SIGKILLed while it mails) resets its
  // connection: the library reports that as the server's 'error'. A real server drops the
  // connection and goes on; the tests assert on what it received.
  server.on('error', (error: Error & { remoteAddress?: string }) => {
    if (error.remoteAddress === undefined) throw error;
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    async waitForCount(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} emails, received ${received.length} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return received;
    },
    setDown: (value) => {
      down = value;
    },
    refuseRecipient: (address, reply = { code: 550, message: '5.1.1 No such user here' }) => {
      refused.set(address.toLowerCase(), reply);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
