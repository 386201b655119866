/**
 * Who may decide for customer support (DESIGN: "naming a reviewer who is active support staff"):
 * limit requests and abuse cases alike.
 */
export function reviewerProblem(reviewer: string, staff: { active: boolean } | undefined): string | undefined {
  if (!staff) return `reviewer "${reviewer}" is not support staff; see \`billing staff list\``;
  if (!staff.active) return `reviewer "${reviewer}" is no longer active support staff`;
  return undefined;
}
