/** CLI input validation through the core's schemas: a bad value exits 2 naming the flag and value. */
import type { z } from 'zod';
import { parseOrThrow } from '../billing/validation';
import { InputError } from './context';

export function flag<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  try {
    return parseOrThrow(schema, value, name);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

export function convert<T>(name: string, value: string, read: (text: string) => T): T {
  try {
    return read(value);
  } catch (error) {
    throw new InputError(`${name}: ${(error as Error).message}`);
  }
}
