export { ROLES, variablesOf } from './roles';
export type { RoleSpec, VariableSpec } from './roles';
export { renderConfigurationReference } from './config-reference';
