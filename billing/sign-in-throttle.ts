/**
 * How the console slows down password guessing (README, "Signing in"): after
 * MAX_FAILURES_PER_LOGIN failed sign-ins for one staff id or email, or MAX_FAILURES_PER_ADDRESS
 * from one address, within the window, further attempts are refused without checking the
 * password until the window has passed since the oldest of them. The same answer whether the
 * login exists or not, so the refusal tells nobody which ids are staff.
 */
export const SIGN_IN_WINDOW_MINUTES = 15;
export const MAX_FAILURES_PER_LOGIN = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

export interface RecentFailures {
  /** Failures for this login within the window, and the oldest of them. */
  login: { count: number; oldestMs: number | null };
  /** Failures from this address within the window, and the oldest of them. */
  address: { count: number; oldestMs: number | null };
}

/** When attempts may resume (epoch ms), or undefined when this attempt may be checked. */
export function signInBlockedUntil(failures: RecentFailures): number | undefined {
  const windowMs = SIGN_IN_WINDOW_MINUTES * 60_000;
  const until: number[] = [];
  if (failures.login.count >= MAX_FAILURES_PER_LOGIN && failures.login.oldestMs !== null) until.push(failures.login.oldestMs + windowMs);
  if (failures.address.count >= MAX_FAILURES_PER_ADDRESS && failures.address.oldestMs !== null) until.push(failures.address.oldestMs + windowMs);
  return until.length > 0 ? Math.max(...until) : undefined;
}

/** The login as failures are counted: `Sam@Example.com ` and `sam@example.com` are one. */
export function throttledLogin(login: string): string {
  return login.trim().toLowerCase();
}

/** What the sign-in page says while attempts are refused. */
export function signInBlockedText(untilMs: number): string {
  const at = new Date(Math.ceil(untilMs / 60_000) * 60_000).toISOString().slice(11, 16);
  return `Too many failed sign-ins for this id or email, or from this address: try again after ${at} UTC. Nothing was checked; a colleague with support rights can set a new password with \`billing staff password ID\`.`;
}
