/**
 * Splits one line of a switch's CSV into fields. Switches write one record per line (cdr_csv,
 * mod_cdr_csv), so the importer reads line by line, keeping each line's exact text and number
 * for its key and the rejects file; a streaming CSV library loses both, and the one that keeps
 * them (csv-parse with raw/info) reads 65,000 rows a second here against 600,000 for this
 * (`npm run bench -- import`, DESIGN target 100,000).
 *
 * Rules: fields are separated by commas; a field whose first non-blank character is `"` is
 * quoted and ends at a `"` followed by a comma or the end of the line, with `""` standing for
 * `"`; other fields are taken as they are. With `relaxQuotes`, a lone `"` inside a quoted field
 * is kept as text (FreeSWITCH substitutes caller names without escaping: cdr-formats §2).
 */

export type SplitResult = { ok: true; fields: string[] } | { ok: false; reason: string };

const QUOTE = 34;
const COMMA = 44;
const SPACE = 32;

export function splitCsvLine(line: string, relaxQuotes = false): SplitResult {
  const fields: string[] = [];
  const end = line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length; // CRLF files
  let i = 0;
  for (;;) {
    let start = i;
    while (start < end && line.charCodeAt(start) === SPACE) start += 1;
    if (start < end && line.charCodeAt(start) === QUOTE) {
      let value = '';
      let from = start + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q < 0 || q >= end) return { ok: false, reason: `unclosed quote in field ${fields.length + 1}` };
        const next = q + 1 < end ? line.charCodeAt(q + 1) : -1;
        if (next === QUOTE) {
          value += line.slice(from, q + 1);
          from = q + 2;
        } else if (next === COMMA || next === -1) {
          value += line.slice(from, q);
          i = q + 1;
          break;
        } else if (relaxQuotes) {
          value += line.slice(from, q + 1);
          from = q + 1;
        } else {
          return { ok: false, reason: `unescaped quote inside quoted field ${fields.length + 1}` };
        }
      }
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const stop = comma < 0 || comma > end ? end : comma;
      fields.push(line.slice(i, stop));
      i = stop;
    }
    if (i >= end) return { ok: true, fields };
    i += 1; // the comma
    if (i === end) {
      fields.push('');
      return { ok: true, fields };
    }
  }
}
