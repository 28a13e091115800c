import { expect } from 'chai';
import { createAesGcmSecretCipher, keyIdOf } from '../../src/adapters/aes-gcm-secret-cipher';
import { newMasterKey } from '../support/keys';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('AES-256-GCM secret cipher', () => {
  const key = newMasterKey();
  const cipher = createAesGcmSecretCipher({ masterKey: key });
  const context = { recordId: 'rec-1', field: 'accessToken' } as const;

  it('decrypts what it encrypted for the same record and field', () => {
    const sealed = cipher.encrypt('BBDC-secret-token', context);
    expect(cipher.decrypt(sealed, context)).to.equal('BBDC-secret-token');
  });

  it('stores v1, the key id, a 12-byte IV, a 16-byte tag and the ciphertext, never the plaintext', () => {
    const sealed = cipher.encrypt('BBDC-secret-token', context);
    const [version, keyId, iv, tag, ct] = sealed.split(':');
    expect(version).to.equal('v1');
    expect(keyId).to.equal(keyIdOf(Buffer.from(key, 'base64')));
    expect(keyId).to.match(/^[0-9a-f]{8}$/);
    expect(Buffer.from(iv!, 'base64')).to.have.length(12);
    expect(Buffer.from(tag!, 'base64')).to.have.length(16);
    expect(Buffer.from(ct!, 'base64').toString('utf8')).to.not.contain('BBDC');
    expect(sealed).to.not.contain('BBDC-secret-token');
  });

  it('uses a fresh IV for every value, so equal secrets give different ciphertexts', () => {
    const a = cipher.encrypt('same', context);
    const b = cipher.encrypt('same', context);
    expect(a).to.not.equal(b);
    expect(a.split(':')[2]).to.not.equal(b.split(':')[2]);
  });

  it('refuses a ciphertext moved onto another record', () => {
    const sealed = cipher.encrypt('token', context);
    expect(codeOf(() => cipher.decrypt(sealed, { recordId: 'rec-2', field: 'accessToken' }))).to.equal(
      'SECRETS.UNDECRYPTABLE',
    );
  });

  it('refuses a ciphertext moved onto another field of the same record', () => {
    const sealed = cipher.encrypt('token', context);
    expect(codeOf(() => cipher.decrypt(sealed, { recordId: 'rec-1', field: 'webhookSecret' }))).to.equal(
      'SECRETS.UNDECRYPTABLE',
    );
  });

  it('refuses a tampered ciphertext', () => {
    const parts = cipher.encrypt('token', context).split(':');
    const ct = Buffer.from(parts[4]!, 'base64');
    ct[0] = ct[0]! ^ 0xff;
    parts[4] = ct.toString('base64');
    expect(codeOf(() => cipher.decrypt(parts.join(':'), context))).to.equal('SECRETS.UNDECRYPTABLE');
  });

  it('refuses a value sealed with a key it does not know, naming the key id but not the key', () => {
    const other = createAesGcmSecretCipher({ masterKey: newMasterKey() });
    const sealed = other.encrypt('token', context);
    try {
      cipher.decrypt(sealed, context);
      expect.fail('decrypted with an unknown key');
    } catch (err) {
      expect((err as Error).message).to.contain(sealed.split(':')[1]);
      expect((err as Error).message).to.contain('PREVIOUS_MASTER_KEYS');
      expect((err as Error).message).to.not.contain(key);
    }
  });

  it('refuses a value that is not in the v1 format', () => {
    expect(codeOf(() => cipher.decrypt('plain-text-token', context))).to.equal('SECRETS.UNDECRYPTABLE');
  });

  it('decrypts values sealed with a previous master key and seals new ones with the current key', () => {
    const oldKey = newMasterKey();
    const before = createAesGcmSecretCipher({ masterKey: oldKey });
    const sealedBefore = before.encrypt('token', context);
    const after = createAesGcmSecretCipher({ masterKey: newMasterKey(), previousMasterKeys: [oldKey] });
    expect(after.decrypt(sealedBefore, context)).to.equal('token');
    expect(after.isCurrent(sealedBefore)).to.equal(false);
    const resealed = after.encrypt('token', context);
    expect(after.isCurrent(resealed)).to.equal(true);
    expect(resealed.split(':')[1]).to.not.equal(sealedBefore.split(':')[1]);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(
      codeOf(() => createAesGcmSecretCipher({ masterKey: Buffer.alloc(16).toString('base64') })),
    ).to.equal('CONFIG.INVALID');
  });
});
