export { subscriberWorkflow } from './subscriber';
export { monthCloseWorkflow } from './month-close';
export { deliverEmailsWorkflow } from './email-delivery';
export { scheduledMonthCloseWorkflow } from './scheduled-close';
export { limitRequestWorkflow } from './limit-request';
export { abuseCaseWorkflow } from './abuse-case';
export { abuseScanWorkflow } from './abuse-scan';
export { policyChangeWorkflow } from './policy-change';
