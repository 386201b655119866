/**
 * What each staff role may do (issue 16, "Access"), the one place the console and the CLI read it:
 * `support` decides limit requests and abuse cases; `billing-ops` follows month closes and policy
 * versions; both read subscribers (their page, invoices, usage) and the queue. A decision by a
 * member who may not decide is refused by the same rule from the console, our CLI, and the
 * workflows' reviewer check (billing/reviewers.ts).
 */
export const STAFF_ROLES = ['support', 'billing-ops'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export type StaffPermission = 'read-subscribers' | 'read-queue' | 'decide' | 'read-closes' | 'read-policies';

const PERMISSIONS: Record<StaffRole, readonly StaffPermission[]> = {
  support: ['read-subscribers', 'read-queue', 'decide'],
  'billing-ops': ['read-subscribers', 'read-queue', 'read-closes', 'read-policies'],
};

export function mayDo(role: StaffRole, permission: StaffPermission): boolean {
  return PERMISSIONS[role].includes(permission);
}

/** The role's permissions, for the README and the console's page footer. */
export function permissionsOf(role: StaffRole): readonly StaffPermission[] {
  return PERMISSIONS[role];
}

export function isStaffRole(text: string): text is StaffRole {
  return (STAFF_ROLES as readonly string[]).includes(text);
}

/** The shortest password a member may set: long enough to resist guessing at the sign-in page. */
export const MIN_PASSWORD_LENGTH = 12;
/** Argon2 hashes any length; a cap keeps a sign-in request from costing the server a megabyte's hash. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Why `password` cannot be set, or undefined. Never quotes the password. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must be at least ${MIN_PASSWORD_LENGTH} characters (it has ${password.length})`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() !== password) return 'the password must not begin or end with white space (a stray newline?)';
  return undefined;
}
