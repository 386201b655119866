/** Configuration from the environment: a bad value is named in one line, never with its password. */
import { ConfigError, loadConfig, redactUrl } from '../../config';

test('a malformed DATABASE_URL is refused without printing its password', () => {
  for (const url of ['postgres://billing:s3cret@db.example:54x/billing', 'postgres://billing:s3/cr@t@db.example:port/billing']) {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: url });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('environment variable DATABASE_URL="postgres://billing:***@db.example:');
    expect(message).not.toMatch(/s3cret|s3\/cr@t/);
  }
});

test('a malformed SMTP_URL is refused without its password too', () => {
  expect(() => loadConfig({ SMTP_URL: 'smtp//mailer:hunter2@relay.example:25' })).toThrow('SMTP_URL="smtp//mailer:***@relay.example:25"');
});

test('redactUrl hides the password of well-formed and malformed URLs alike', () => {
  expect(redactUrl('postgres://billing:billing@127.0.0.1:54329/billing')).toBe('postgres://billing:***@127.0.0.1:54329/billing');
  expect(redactUrl('postgres://billing@127.0.0.1/billing')).toBe('postgres://billing@127.0.0.1/billing');
  expect(redactUrl('postgres://127.0.0.1/billing')).toBe('postgres://127.0.0.1/billing');
  expect(redactUrl('postgres:billing:p@ss:word@host/db')).toBe('postgres:billing:***@host/db');
  expect(redactUrl('postgres://:only-password@host/db')).toBe('postgres://:***@host/db');
});
