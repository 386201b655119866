/**
 * Staff passwords (the console's sign-in): Argon2id through @node-rs/argon2, its defaults (OWASP's
 * minimum: 19 MiB, 2 passes), the hash stored as its PHC string (salt and parameters included), so
 * that raising the cost later still verifies the hashes made before.
 */
import { hash, verify } from '@node-rs/argon2';

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/**
 * Whether `password` is the one of `passwordHash`. A member without a password (null) never
 * matches; the work is done all the same, so an unknown login or a member without a password
 * takes as long to refuse as a wrong password, and says nothing of which it was.
 */
export async function passwordMatches(passwordHash: string | null, password: string): Promise<boolean> {
  const matches = await verify(passwordHash ?? (await decoyHash()), password).catch(() => false);
  return passwordHash !== null && matches;
}

let decoy: Promise<string> | undefined;
function decoyHash(): Promise<string> {
  decoy ??= hash('no member has this password: it only spends the time of a check');
  return decoy;
}
