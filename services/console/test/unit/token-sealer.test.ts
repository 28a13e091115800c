import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createTokenSealer } from '../../src/adapters/token-sealer';

describe('the viewer token sealer (AES-256-GCM)', () => {
  const sealer = createTokenSealer(randomBytes(32).toString('base64'));
  const tokens = JSON.stringify({
    accessToken: 'user-access-token-1234567890',
    refreshToken: 'r-0987654321',
  });

  it('opens what it sealed, in the same context, and never shows the plaintext in the sealed value', () => {
    const sealed = sealer.seal(tokens, 'viewer:session-a');
    expect(sealed).to.match(/^v1:/);
    expect(sealed).not.to.contain('user-access-token');
    expect(sealer.open(sealed, 'viewer:session-a')).to.equal(tokens);
  });

  it('uses a new IV each time, so the same tokens seal differently', () => {
    expect(sealer.seal(tokens, 'c')).not.to.equal(sealer.seal(tokens, 'c'));
  });

  it('refuses a value copied into another session, a tampered value and another key', () => {
    const sealed = sealer.seal(tokens, 'viewer:session-a');
    expect(sealer.open(sealed, 'viewer:session-b')).to.equal(undefined);
    const parts = sealed.split(':');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(sealer.open(parts.join(':'), 'viewer:session-a')).to.equal(undefined);
    expect(createTokenSealer(randomBytes(32).toString('base64')).open(sealed, 'viewer:session-a')).to.equal(
      undefined,
    );
    expect(sealer.open('not sealed', 'viewer:session-a')).to.equal(undefined);
  });

  it('will not start with a key that is not 32 bytes', () => {
    expect(() => createTokenSealer(randomBytes(16).toString('base64'))).to.throw(/32 bytes/);
  });
});
