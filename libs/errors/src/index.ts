export { AppError, isAppError, toAppError } from './app-error';
export type { AppErrorOptions } from './app-error';
export { handleError } from './handle-error';
export type { ErrorLogger, HandledError } from './handle-error';
