import { expect } from 'chai';
import {
  appendRunLogAnswerSchema,
  appendRunLogRequestSchema,
  RUN_LOG_LIMITS,
  runLogPageSchema,
  runLogsPath,
  runLogStreamPath,
} from '../../src';

const chunk = (seq: number, text = 'ok\n') => ({
  seq,
  stream: 'stdout',
  text,
  at: '2026-01-01T00:00:00.000Z',
});

describe('the run logs contract', () => {
  it('accepts ordered chunks of the three streams, an empty text included', () => {
    const body = {
      chunks: [chunk(0), { ...chunk(1), stream: 'stderr' }, { ...chunk(5, ''), stream: 'system' }],
    };
    expect(appendRunLogRequestSchema.validate(body).error).to.equal(undefined);
  });

  it('names the chunk whose seq does not follow the one before it', () => {
    const { error } = appendRunLogRequestSchema.validate({ chunks: [chunk(2), chunk(3), chunk(3)] });
    expect(error?.message).to.equal('"chunks[2].seq" must be greater than the seq of the chunk before it');
  });

  it('measures the 64 KiB of a chunk in UTF-8 bytes', () => {
    const limit = RUN_LOG_LIMITS.maxChunkBytes;
    expect(appendRunLogRequestSchema.validate({ chunks: [chunk(0, 'a'.repeat(limit))] }).error).to.equal(
      undefined,
    );
    const { error } = appendRunLogRequestSchema.validate({ chunks: [chunk(0, 'ä'.repeat(limit / 2 + 1))] });
    expect(error?.details[0]?.path).to.deep.equal(['chunks', 0, 'text']);
  });

  it('describes the answers the API gives', () => {
    expect(appendRunLogAnswerSchema.validate({ stored: 1, nextSeq: 2, truncated: false }).error).to.equal(
      undefined,
    );
    const page = { runId: 'r-1', chunks: [chunk(0)], nextAfter: 0, truncated: false, complete: true };
    expect(runLogPageSchema.validate(page).error).to.equal(undefined);
    expect(runLogPageSchema.validate({ ...page, chunks: [], nextAfter: null }).error).to.equal(undefined);
    expect(runLogsPath('a/b')).to.equal('runs/a%2Fb/logs');
    expect(runLogStreamPath('r-1')).to.equal('runs/r-1/logs/stream');
  });
});
