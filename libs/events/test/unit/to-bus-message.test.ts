import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import {
  type CanonicalEvent,
  EVENT_KEY_BY_TYPE,
  EVENT_TYPES,
  eventTypeForKey,
  IGNORED_EVENT_KEYS,
  normalize,
  routingKeyFor,
  SUBSCRIBED_EVENT_KEYS,
  toBusMessage,
  VCS_EVENTS_EXCHANGE,
} from '../../src';
import { loadWebhook } from '../support/fixtures';

function eventFrom(fixture: string, eventKey: string): CanonicalEvent {
  const result = normalize({
    eventKey,
    deliveryId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
    integrationId: 'int-42',
    receivedAt: new Date('2030-01-01T00:00:00.000Z'),
    body: loadWebhook(fixture),
    id: 'c0ffee00-1234-4abc-8def-0123456789ab',
  });
  if (result.kind !== 'event') return expect.fail(result.reason);
  return result.event;
}

describe('toBusMessage', () => {
  it('publishes to vcs.events with routing key bitbucket-dc.<type>, the event id as messageId and filter headers', () => {
    const event = eventFrom('push-branch-update.json', 'repo:refs_changed');

    const message = toBusMessage(event);

    expect(message).to.deep.equal({
      exchange: 'vcs.events',
      routingKey: 'bitbucket-dc.push',
      messageId: 'c0ffee00-1234-4abc-8def-0123456789ab',
      headers: {
        integrationId: 'int-42',
        projectKey: 'PRJ',
        repositorySlug: 'infra',
        eventType: 'push',
        specVersion: 1,
      },
      body: event,
    });
  });

  it('a pull request from a fork carries the target repository in its headers', () => {
    const event = eventFrom('pr-opened-fork-project.json', 'pr:opened');

    const { routingKey, headers } = toBusMessage(event);

    expect(routingKey).to.equal('bitbucket-dc.pull_request.opened');
    expect(headers).to.include({ projectKey: 'PRJ', repositorySlug: 'infra' });
  });

  it('refuses to map an event that is off the schema', () => {
    const event = {
      ...eventFrom('pr-opened.json', 'pr:opened'),
      extra: true,
    } as unknown as CanonicalEvent;

    try {
      toBusMessage(event);
      expect.fail('expected EVENT.INVALID');
    } catch (err) {
      expect(isAppError(err) && err.code).to.equal('EVENT.INVALID');
    }
  });
});

describe('event keys and routing keys', () => {
  it('the exchange is vcs.events and every type routes as bitbucket-dc.<type>', () => {
    expect(VCS_EVENTS_EXCHANGE).to.equal('vcs.events');
    expect(EVENT_TYPES.map(routingKeyFor)).to.deep.equal(EVENT_TYPES.map((t) => `bitbucket-dc.${t}`));
  });

  it('the webhook subscribes to exactly the eleven keys that map to a type', () => {
    expect([...SUBSCRIBED_EVENT_KEYS]).to.have.members([
      'repo:refs_changed',
      'pr:opened',
      'pr:from_ref_updated',
      'pr:modified',
      'pr:reviewer:approved',
      'pr:reviewer:unapproved',
      'pr:reviewer:needs_work',
      'pr:merged',
      'pr:declined',
      'pr:deleted',
      'pr:comment:added',
    ]);
    for (const key of SUBSCRIBED_EVENT_KEYS) expect(EVENT_KEY_BY_TYPE[eventTypeForKey(key)!]).to.equal(key);
  });

  it('no ignored key is subscribed to or mapped to a type', () => {
    for (const key of IGNORED_EVENT_KEYS.keys()) {
      expect(SUBSCRIBED_EVENT_KEYS).not.to.include(key);
      expect(eventTypeForKey(key)).to.equal(undefined);
    }
  });
});
