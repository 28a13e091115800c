import { expect } from 'chai';
import { loadRunnerConfig } from '../../src/config';

function variablesRefused(env: Record<string, string>): string[] {
  try {
    loadRunnerConfig(env);
  } catch (err) {
    return (err as { details: { variables: string[] } }).details.variables;
  }
  return [];
}

describe('the runner configuration', () => {
  it('needs RUNNER_TOKEN of at least 32 characters, and reads no ADMIN_TOKEN', () => {
    expect(variablesRefused({})).to.deep.equal(['RUNNER_TOKEN']);
    expect(variablesRefused({ RUNNER_TOKEN: 'too-short-0123456789' })).to.deep.equal(['RUNNER_TOKEN']);
    const config = loadRunnerConfig({ RUNNER_TOKEN: 'x'.repeat(32), ADMIN_TOKEN: 'a'.repeat(32) });
    expect(config.RUNNER_TOKEN).to.equal('x'.repeat(32));
    expect(config).to.not.have.property('ADMIN_TOKEN');
  });
});
