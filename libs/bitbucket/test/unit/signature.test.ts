import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { sign, verifySignature } from '../../src';
import { type Corpus, ownCorpus, readBody } from '@stacklink/fixtures';
import { describePublicCorpus } from '@stacklink/testing';

/** Every vector: the exact bytes verify with the header an independent tool computed, and only them. */
function holdsEveryVector(corpus: Corpus): void {
  for (const vector of corpus.signatures) {
    describe(vector.file, () => {
      const body = readBody(vector);

      it('verifies with its published signature and secret', () => {
        expect(verifySignature(body, vector.header, [vector.secret])).to.deep.equal({ valid: true });
      });

      it('is what sign() computes for the same bytes', () => {
        expect(sign(vector.secret, body)).to.equal(vector.header);
      });

      it('fails when one byte of the body is flipped', () => {
        const tampered = Buffer.from(body);
        tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
        expect(verifySignature(tampered, vector.header, [vector.secret])).to.deep.equal({
          valid: false,
          reason: 'mismatch',
        });
      });

      it('fails when one hex digit of the signature is changed', () => {
        const last = vector.header.at(-1) === '0' ? '1' : '0';
        const header = vector.header.slice(0, -1) + last;
        expect(verifySignature(body, header, [vector.secret]).reason).to.equal('mismatch');
      });
    });
  }
}

describe('webhook signatures', () => {
  describe('our own vectors (libs/fixtures, computed with openssl)', () => {
    const own = ownCorpus();

    it('has vectors over several bodies and secrets', () => {
      expect(own.signatures.length).to.be.greaterThanOrEqual(10);
      expect(new Set(own.signatures.map((v) => v.secret)).size).to.be.greaterThan(1);
    });

    holdsEveryVector(own);
  });

  describePublicCorpus('bitbucket-dc', 'the vectors published with the public corpus', (corpus) => {
    it('finds the 18 signature vectors of SOURCES.md', () => {
      expect(corpus.signatures).to.have.length(18);
    });

    holdsEveryVector(corpus);
  });

  const body = Buffer.from('{"eventKey":"repo:refs_changed"}');

  it('accepts sha384 and sha512 signatures', () => {
    expect(verifySignature(body, sign('s3cret', body, 'sha384'), ['s3cret']).valid).to.equal(true);
    expect(verifySignature(body, sign('s3cret', body, 'sha512'), ['s3cret']).valid).to.equal(true);
  });

  it('accepts upper-case hex digests', () => {
    const [name, hex] = sign('s3cret', body).split('=');
    expect(verifySignature(body, `${name}=${hex!.toUpperCase()}`, ['s3cret']).valid).to.equal(true);
  });

  it('accepts a signature made with any of the currently valid secrets (rotation)', () => {
    const header = sign('old-secret', body);
    expect(verifySignature(body, header, ['new-secret', 'old-secret']).valid).to.equal(true);
    expect(verifySignature(body, header, ['new-secret']).reason).to.equal('mismatch');
  });

  it('rejects a correct sha1 signature as an unsupported algorithm', () => {
    const header = `sha1=${createHmac('sha1', 's3cret').update(body).digest('hex')}`;
    expect(verifySignature(body, header, ['s3cret'])).to.deep.equal({
      valid: false,
      reason: 'unsupported_algorithm',
    });
  });

  it('rejects a missing or empty header', () => {
    expect(verifySignature(body, undefined, ['s3cret'])).to.deep.equal({ valid: false, reason: 'missing' });
    expect(verifySignature(body, '', ['s3cret'])).to.deep.equal({ valid: false, reason: 'missing' });
    expect(verifySignature(body, '   ', ['s3cret'])).to.deep.equal({ valid: false, reason: 'missing' });
  });

  const good = sign('s3cret', body);
  const malformed: [string, string][] = [
    ['no algorithm', good.split('=')[1]!],
    ['no digest', 'sha256='],
    ['a digest that is not hex', `sha256=${'z'.repeat(64)}`],
    ['a digest one byte short', good.slice(0, -2)],
    ['a digest one byte long', `${good}ab`],
    ['two signatures', `${good},${good}`],
    ['a separator other than =', good.replace('=', ':')],
  ];
  for (const [what, header] of malformed) {
    it(`rejects a header with ${what} as malformed`, () => {
      expect(verifySignature(body, header, ['s3cret'])).to.deep.equal({ valid: false, reason: 'malformed' });
    });
  }

  it('rejects every signature when there is no valid secret', () => {
    expect(verifySignature(body, good, [])).to.deep.equal({ valid: false, reason: 'mismatch' });
  });
});
