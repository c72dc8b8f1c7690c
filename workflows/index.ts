export { applicationWorkflow } from './application.workflow';
export { projectWorkflow } from './project.workflow';
