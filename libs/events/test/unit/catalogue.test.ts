import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES } from '../../src';
import { CATALOGUE, renderEventCatalogue } from '../../src/catalogue';
import { findRepoRoot } from '@stacklink/fixtures';
import { loadWebhook } from '../support/fixtures';

describe('event catalogue (docs/events.md)', () => {
  it('the committed docs/events.md is what the generator writes now', () => {
    const committed = readFileSync(join(findRepoRoot(__dirname), 'docs', 'events.md'), 'utf8');

    const generated = renderEventCatalogue(loadWebhook);

    // On failure: npx tsc -b libs/events && node libs/events/dist/src/generate-catalogue.js
    expect(committed === generated, 'docs/events.md is out of date; regenerate it').to.equal(true);
  });

  it('documents every event type with a routing key, its Bitbucket key and an example', () => {
    const text = renderEventCatalogue(loadWebhook);

    for (const type of EVENT_TYPES) {
      expect(text).to.contain(`## \`${type}\``);
      expect(text).to.contain(`- Routing key: \`bitbucket-dc.${type}\``);
      expect(text).to.contain(`"type": "${type}"`);
      expect(text).to.contain(CATALOGUE[type].fixture);
    }
  });
});
