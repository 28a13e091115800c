export { migrate } from './migrate';
export type { Migration } from './migrate';
export { openSqliteDatabase } from './open';
