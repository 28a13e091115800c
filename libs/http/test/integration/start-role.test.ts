import { expect } from 'chai';
import { createSilentLogger } from '@stacklink/logger';
import { startRole, type RoleConnection } from '../../src';

const logger = createSilentLogger();

function recording(events: string[], name: string, options: { failStart?: boolean } = {}): RoleConnection {
  return {
    name,
    start: async () => {
      if (options.failStart) throw new Error(`${name} unreachable`);
      events.push(`start ${name}`);
    },
    ready: () => true,
    close: () => {
      events.push(`close ${name}`);
    },
  };
}

describe('startRole', () => {
  it('starts connections in order, serves /readyz from their checks, and stops in reverse order', async () => {
    const events: string[] = [];
    const role = await startRole({
      service: 'test-role',
      listen: { port: 0, host: '127.0.0.1' },
      logger,
      connections: [recording(events, 'store'), recording(events, 'rabbitmq')],
      prepare: async () => {
        events.push('prepare');
      },
      consumers: [
        async () => {
          events.push('consume');
          return { cancel: () => void events.push('cancel') };
        },
      ],
    });

    const ready = await fetch(`${role.url}/readyz`);
    expect(ready.status).to.equal(200);
    await Promise.all([role.stop(), role.stop()]);

    expect(events).to.deep.equal([
      'start store',
      'start rabbitmq',
      'prepare',
      'consume',
      'cancel',
      'close rabbitmq',
      'close store',
    ]);
  });

  it('when a connection fails to start, closes the ones started before it and rejects', async () => {
    const events: string[] = [];
    const started = startRole({
      service: 'test-role',
      listen: { port: 0, host: '127.0.0.1' },
      logger,
      connections: [
        recording(events, 'store'),
        recording(events, 'redis'),
        recording(events, 'rabbitmq', { failStart: true }),
      ],
    });

    const error = await started.then(
      () => undefined,
      (err: Error) => err,
    );

    expect(error?.message).to.equal('rabbitmq unreachable');
    expect(events).to.deep.equal(['start store', 'start redis', 'close redis', 'close store']);
  });
});
