import { mayDo, type StaffRole } from './staff-roles';

/**
 * Who may decide for customer support (DESIGN: "naming a reviewer who is active support staff"):
 * limit requests and abuse cases alike. A member without a role (a caller that did not read it)
 * is taken as support, the role every member had before roles existed.
 */
export function reviewerProblem(reviewer: string, staff: { active: boolean; role?: StaffRole } | undefined): string | undefined {
  if (!staff) return `reviewer "${reviewer}" is not support staff; see \`billing staff list\``;
  if (!staff.active) return `reviewer "${reviewer}" is no longer active support staff`;
  if (!mayDo(staff.role ?? 'support', 'decide')) return `reviewer "${reviewer}" is ${staff.role} staff, not support: only support staff decide requests and cases`;
  return undefined;
}
