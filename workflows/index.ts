export { subscriberWorkflow } from './subscriber';
export { monthCloseWorkflow } from './month-close';
