import { isStaffRole, mayDo, MIN_PASSWORD_LENGTH, passwordProblem, permissionsOf, STAFF_ROLES } from '../../billing/staff-roles';

test('support decides; billing operations follow closes and policies; both read subscribers and the queue', () => {
  expect(STAFF_ROLES).toEqual(['support', 'billing-ops']);
  expect(mayDo('support', 'decide')).toBe(true);
  expect(mayDo('billing-ops', 'decide')).toBe(false);
  expect(mayDo('billing-ops', 'read-closes')).toBe(true);
  expect(mayDo('billing-ops', 'read-policies')).toBe(true);
  expect(mayDo('support', 'read-closes')).toBe(false);
  for (const role of STAFF_ROLES) expect(permissionsOf(role)).toEqual(expect.arrayContaining(['read-subscribers', 'read-queue']));
  expect(isStaffRole('billing-ops')).toBe(true);
  expect(isStaffRole('admin')).toBe(false);
});

test('a password is long enough, not huge, and carries no stray white space; the message never quotes it', () => {
  expect(passwordProblem('x'.repeat(MIN_PASSWORD_LENGTH))).toBeUndefined();
  expect(passwordProblem('short-pass')).toBe(`the password must be at least ${MIN_PASSWORD_LENGTH} characters (it has 10)`);
  expect(passwordProblem('y'.repeat(2000))).toContain('at most');
  expect(passwordProblem('a long password\n')).toContain('white space');
  expect(passwordProblem('secret-secret-1')).toBeUndefined();
  expect(passwordProblem('short')).not.toContain('short"');
});
