import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { invoicePdfName } from '../../billing/invoice-document';
import { formatCents, formatMicros } from '../../billing/money';
import { formatMinutes } from '../../billing/emails';
import { IdSchema, PeriodSchema } from '../../billing/validation';
import { getInvoice, listInvoices } from '../../db/invoices';
import { getSubscriber } from '../../db/subscribers';
import { InputError, type RunCommand } from '../context';
import { invoiceDocumentOf, renderPdf } from '../invoice-pdf';
import { plural, printJson, printLines, printTable } from '../output';
import { flag } from '../validate';

export function registerInvoiceCommands(program: Command, run: RunCommand): void {
  const invoices = program.command('invoices').description('look at invoices');
  invoices
    .command('list')
    .description('list invoices, optionally of one month or subscriber')
    .option('--period <YYYY-MM>', 'only this month')
    .option('--subscriber <id>', 'only this subscriber')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const pool = await ctx.pool();
        const period = opts.period === undefined ? undefined : flag(PeriodSchema, opts.period, '--period');
        const subscriberId = opts.subscriber === undefined ? undefined : flag(IdSchema, opts.subscriber, '--subscriber');
        // An unknown subscriber is a mistake to say, not an empty list (as `status` and `usage show` say it).
        if (subscriberId !== undefined && !(await getSubscriber(pool, subscriberId))) {
          throw new InputError(`subscriber "${subscriberId}" does not exist; see \`billing subscribers list\``);
        }
        const rows = await listInvoices(pool, { period, subscriberId });
        if (opts.json) return printJson(rows);
        printTable(
          rows.map((r) => ({ ...r, used: formatMinutes(r.usedSeconds), overage: `${r.overageMinutes} min`, total: `${formatCents(r.totalCents)} ${r.currency}` })),
          [['number', 'Number'], ['id', 'Invoice'], 'subscriberId', 'period', 'used', 'overage', 'total'],
        );
      }),
    );
  invoices
    .command('pdf <invoice>')
    .description('write the PDF of an invoice (by its id or number): the document its email attached')
    .option('--out <file>', 'where to write it (default: ./<number>.pdf)')
    .action((id: string, opts) =>
      run(async (ctx) => {
        const found = await invoiceDocumentOf(await ctx.pool(), ctx.config.seller, id);
        if (!found) throw new InputError(`invoice "${id}" does not exist; see \`billing invoices list\``);
        const { document, invoiceId } = found;
        const file = path.resolve(opts.out ?? invoicePdfName(document));
        const bytes = await renderPdf(document);
        try {
          fs.writeFileSync(file, bytes);
        } catch (error) {
          throw new InputError(`cannot write ${file}: ${(error as Error).message}; give another --out`);
        }
        printLines([`${document.number} (${invoiceId}, ${document.total.amount}) written to ${file} (${bytes.length} bytes)`]);
      }),
    );
  invoices
    .command('show <invoice>')
    .description('one invoice with its lines')
    .option('--json', 'print as JSON')
    .action((id: string, opts) =>
      run(async (ctx) => {
        const invoice = await getInvoice(await ctx.pool(), id);
        if (!invoice) throw new InputError(`invoice "${id}" does not exist; see \`billing invoices list\``);
        if (opts.json) return printJson(invoice);
        printLines([
          `${invoice.number} (${invoice.id}): ${invoice.subscriberId}, ${invoice.period} (policy v${invoice.policyVersion})`,
          `  issued ${invoice.issueDate}, due ${invoice.dueDate}`,
          `  used ${formatMinutes(invoice.usedSeconds)} in ${plural(invoice.calls, 'call')} of ${formatMinutes(invoice.allowanceSeconds)} allowed; overage ${invoice.overageMinutes} min at ${formatMicros(invoice.overageRateMicros)} ${invoice.currency}/min`,
          '',
        ]);
        printTable(
          invoice.lines.map((l) => ({ line: l.description, amount: `${formatCents(l.amountCents)} ${invoice.currency}` })),
          ['line', 'amount'],
        );
        printLines([`total: ${formatCents(invoice.totalCents)} ${invoice.currency}`]);
      }),
    );
}
