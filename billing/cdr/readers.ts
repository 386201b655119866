/** The reader for each usage-file format. */
import { AsteriskReader } from './asterisk';
import { FreeswitchReader } from './freeswitch';
import { FreeswitchJsonReader } from './freeswitch-json';
import { UsageCsvReader, parseJsonlLine } from './own-formats';
import type { CdrFormat, CdrReader, ReaderOptions, ReadResult } from './types';

export const CDR_FORMATS: CdrFormat[] = ['asterisk', 'freeswitch', 'freeswitch-json', 'csv', 'jsonl'];

/** jsonl rows arrive as a single field holding the line. */
class JsonlReader implements CdrReader {
  constructor(private readonly timezone: string) {}
  push(fields: string[], line: number): ReadResult[] {
    return [parseJsonlLine(fields[0] ?? '', line, this.timezone)];
  }
  flush(): ReadResult[] {
    return [];
  }
}

export function createReader(format: CdrFormat, options: ReaderOptions & { columns?: string[] }): CdrReader {
  switch (format) {
    case 'asterisk':
      return new AsteriskReader(options);
    case 'freeswitch':
      return new FreeswitchReader(options);
    case 'freeswitch-json':
      return new FreeswitchJsonReader(options); // one mod_json_cdr document a line, in fields[0]
    case 'csv':
      return new UsageCsvReader(options); // takes its header from the first row pushed
    case 'jsonl':
      return new JsonlReader(options.timezone);
  }
}
