/** The plain layout of the emails about requests and cases: paragraphs, then commands to copy. Pure. */
import type { EmailContent } from './emails';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function message(subject: string, paragraphs: string[], preformatted: string[] = []): EmailContent {
  const text = [...paragraphs.flatMap((p) => [p, '']), ...preformatted.map((l) => `  ${l}`), ...(preformatted.length ? [''] : []), 'RedConnect Billing'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${preformatted.length ? `<pre>${escapeHtml(preformatted.join('\n'))}</pre>` : ''}<p>RedConnect Billing</p></body></html>`;
  return { subject, text, html };
}

export const greeting = (d: { subscriberId: string; subscriberName: string | null }): string => `Hello ${d.subscriberName ?? d.subscriberId},`;
