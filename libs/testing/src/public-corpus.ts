import {
  type Corpus,
  findPublicCorpora,
  type PublicCorpora,
  type PublicCorpusName,
} from '@stacklink/fixtures';

/** Read by scripts/mocha-reporter.js, which prints one line for all of them at the end of the run. */
const SKIPPED = Symbol.for('stacklink.skippedCorpusSuites');

let corpora: PublicCorpora | undefined;

function publicCorpora(): PublicCorpora {
  corpora ??= findPublicCorpora();
  return corpora;
}

/** Titles of the suites skipped so far because their public corpus is absent. */
export function skippedCorpusSuites(): string[] {
  const store = globalThis as unknown as Record<symbol, string[] | undefined>;
  store[SKIPPED] ??= [];
  return store[SKIPPED];
}

/**
 * A suite over one public corpus of real Bitbucket captures (docs/architecture.md §11). When the corpus
 * is there it runs like any `describe`; when it is not, the suite is one pending test (counted as
 * skipped, never as a failure) and the run ends with `public fixture corpus not found: N suites skipped`.
 */
export function describePublicCorpus(
  name: PublicCorpusName,
  title: string,
  body: (corpus: Corpus) => void,
): void {
  const { found, searched } = publicCorpora();
  const corpus = found.get(name);
  if (corpus !== undefined) {
    describe(`${title} [public corpus ${name}]`, () => body(corpus));
    return;
  }
  skippedCorpusSuites().push(title);
  describe(title, () => {
    it(
      `needs the public fixture corpus ${name} (looked in ${searched.join(', ')}; or set STACKLINK_FIXTURES)`,
    );
  });
}
