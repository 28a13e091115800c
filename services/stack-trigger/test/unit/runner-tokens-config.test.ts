import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { loadApiConfig } from '../../src/config';

const required = { ADMIN_TOKEN: 'a'.repeat(16), INTERNAL_TOKEN: 'b'.repeat(16) };
const A = 'r'.repeat(32);
const B = 's'.repeat(40);

function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadApiConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return (err as AppError & { details: { problems: { variable: string; message: string }[] } }).details
      .problems;
  }
  throw new Error('the configuration was accepted');
}

describe('RUNNER_TOKENS in the stack-trigger API configuration', () => {
  it('reads a comma list of tokens, trimming spaces and empty entries', () => {
    expect(loadApiConfig({ ...required, RUNNER_TOKENS: ` ${A} ,${B},` }).RUNNER_TOKENS).to.deep.equal([A, B]);
  });

  it('is optional: without it only ADMIN_TOKEN reaches the run routes', () => {
    expect(loadApiConfig(required).RUNNER_TOKENS).to.equal(undefined);
  });

  it('refuses a token shorter than 32 characters, naming the variable and not the value', () => {
    const short = 'short-runner-token';
    const problems = problemsOf({ ...required, RUNNER_TOKENS: `${A},${short}` });
    expect(problems.map((p) => p.variable)).to.deep.equal(['RUNNER_TOKENS']);
    expect(problems[0]!.message).to.contain('at least 32 characters');
    expect(JSON.stringify(problems)).to.not.contain(short);
  });

  it('refuses a list without any token', () => {
    expect(problemsOf({ ...required, RUNNER_TOKENS: ' , ' }).map((p) => p.variable)).to.deep.equal([
      'RUNNER_TOKENS',
    ]);
  });
});
