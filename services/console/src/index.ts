// The console's public entry: what other packages may import. Side-effect free: roles/console.ts starts
// the process only when it is the process.

// The role's variables, for the system tests' role checks and configuration reference.
export { consoleConfigSchema, loadConsoleConfig } from './config';
export type { ConsoleConfig } from './config';
export { createConsoleApp } from './app';
export { escapeHtml, html, Html } from './views/html';
