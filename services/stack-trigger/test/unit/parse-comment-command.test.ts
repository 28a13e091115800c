import { expect } from 'chai';
import { parseCommentCommand } from '../../src/domain/parse-comment-command';

describe('parseCommentCommand', () => {
  it('reads /stacklink propose without a stack', () => {
    expect(parseCommentCommand('/stacklink propose')).to.deep.equal({ kind: 'propose' });
  });

  it('reads /stacklink retry with a stack name', () => {
    expect(parseCommentCommand('/stacklink retry prod')).to.deep.equal({ kind: 'retry', stack: 'prod' });
  });

  it('reads a quoted stack name with spaces', () => {
    expect(parseCommentCommand('/stacklink propose "prod eu"')).to.deep.equal({
      kind: 'propose',
      stack: 'prod eu',
    });
  });

  it('ignores leading whitespace and reads only the first line', () => {
    expect(parseCommentCommand('  /stacklink propose\nthanks!')).to.deep.equal({ kind: 'propose' });
  });

  it('accepts the verb in any case', () => {
    expect(parseCommentCommand('/stacklink PROPOSE')).to.deep.equal({ kind: 'propose' });
  });

  it('is not a command when the comment does not start with the prefix', () => {
    expect(parseCommentCommand('please /stacklink propose')).to.deep.equal({ kind: 'none' });
    expect(parseCommentCommand('LGTM')).to.deep.equal({ kind: 'none' });
  });

  it('is not a command when the prefix is only the start of a longer word', () => {
    expect(parseCommentCommand('/stacklinked it')).to.deep.equal({ kind: 'none' });
  });

  it('asks for help when nothing follows the prefix', () => {
    expect(parseCommentCommand('/stacklink').kind).to.equal('help');
  });

  it('asks for help on an unknown command, naming it', () => {
    const command = parseCommentCommand('/stacklink apply prod');
    expect(command).to.deep.equal({ kind: 'help', problem: 'unknown command "apply"' });
  });

  it('asks for help when more than one stack is given', () => {
    expect(parseCommentCommand('/stacklink propose a b').kind).to.equal('help');
  });

  it('asks for help on unbalanced quotes', () => {
    expect(parseCommentCommand('/stacklink propose "prod').kind).to.equal('help');
  });
});
