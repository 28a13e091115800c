import { AppError } from '@stacklink/errors';

export function integrationNotFound(id: string): AppError {
  return new AppError('INTEGRATION.NOT_FOUND', `integration ${id} does not exist`, {
    status: 404,
    details: { field: 'id' },
  });
}

export function nameTaken(name: string): AppError {
  const message = `"name" ${JSON.stringify(name)} is already used by another integration`;
  return new AppError('INTEGRATION.NAME_TAKEN', message, {
    status: 409,
    details: { fields: [{ field: 'name', message }] },
  });
}

export function concurrentUpdate(id: string): AppError {
  return new AppError(
    'INTEGRATION.CONFLICT',
    `integration ${id} was changed by another request at the same time; read it again and retry`,
    { status: 409, retryable: true },
  );
}
