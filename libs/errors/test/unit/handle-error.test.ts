import { expect } from 'chai';
import { AppError, handleError, isAppError, toAppError } from '../../src';

function recordingLogger() {
  const lines: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  return {
    lines,
    error: (message: string, meta?: Record<string, unknown>) => lines.push({ level: 'error', message, meta }),
    warn: (message: string, meta?: Record<string, unknown>) => lines.push({ level: 'warn', message, meta }),
  };
}

describe('errors', () => {
  it('an AppError keeps its code, status, retryable flag and cause', () => {
    const cause = new Error('socket hang up');
    const err = new AppError('BUS.PUBLISH_FAILED', 'broker unavailable', {
      status: 503,
      retryable: true,
      cause,
    });
    expect(err.code).to.equal('BUS.PUBLISH_FAILED');
    expect(err.status).to.equal(503);
    expect(err.retryable).to.equal(true);
    expect(err.cause).to.equal(cause);
    expect(isAppError(err)).to.equal(true);
  });

  it('recognises an AppError by its name and code when instanceof cannot (another copy of the lib)', () => {
    const foreign = Object.assign(new Error('x'), { name: 'AppError', code: 'A.B' });
    expect(isAppError(foreign)).to.equal(true);
    expect(isAppError(new Error('plain'))).to.equal(false);
  });

  it('wraps an unknown throw into an internal, non-retryable AppError', () => {
    const err = toAppError('boom');
    expect(err.code).to.equal('INTERNAL.UNEXPECTED');
    expect(err.status).to.equal(500);
    expect(err.retryable).to.equal(false);
  });

  it('when a client error is handled, it answers its status and code and logs a warning', () => {
    const log = recordingLogger();
    const handled = handleError(
      new AppError('VALIDATION.FAILED', '"name" is required', { status: 400, details: [{ field: 'name' }] }),
      log,
      { requestId: 'r1' },
    );
    expect(handled.status).to.equal(400);
    expect(handled.body).to.deep.equal({
      error: { code: 'VALIDATION.FAILED', message: '"name" is required', details: [{ field: 'name' }] },
    });
    expect(log.lines).to.have.length(1);
    expect(log.lines[0]!.level).to.equal('warn');
    expect(log.lines[0]!.meta).to.include({ requestId: 'r1', code: 'VALIDATION.FAILED' });
  });

  it('when an unexpected error is handled, it answers 500 without describing the internals', () => {
    const log = recordingLogger();
    const handled = handleError(new TypeError('cannot read x of undefined'), log);
    expect(handled.status).to.equal(500);
    expect(handled.body.error.message).to.equal('internal error');
    expect(JSON.stringify(handled.body)).not.to.contain('cannot read');
    expect(log.lines[0]!.level).to.equal('error');
    expect(log.lines[0]!.message).to.contain('cannot read x');
  });
});
