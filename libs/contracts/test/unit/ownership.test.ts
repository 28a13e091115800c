import { expect } from 'chai';
import {
  gatewayTopology,
  integrationTopology,
  runnerTopology,
  stackTriggerTopology,
  topologyProblems,
  vcsEventsQueueSpec,
  runsReadyQueueSpec,
} from '../../src';

describe('who may declare which exchange and queue', () => {
  it('finds nothing wrong with the topology each service asserts', () => {
    expect(topologyProblems('stack-trigger', stackTriggerTopology)).to.deep.equal([]);
    expect(topologyProblems('runner', runnerTopology)).to.deep.equal([]);
    expect(topologyProblems('integration', integrationTopology)).to.deep.equal([]);
    expect(topologyProblems('webhook-gateway', gatewayTopology('host-1'))).to.deep.equal([]);
  });

  it('names a service that declares another service’s queue or an exchange it neither owns nor binds to', () => {
    expect(
      topologyProblems('runner', {
        exchanges: [{ name: 'runs' }, { name: 'integration.events' }],
        queues: [runsReadyQueueSpec, vcsEventsQueueSpec],
      }),
    ).to.deep.equal([
      'runner declares exchange integration.events of integration without binding a queue to it',
      'runner declares queue stack-trigger.vcs-events of stack-trigger',
    ]);
    expect(
      topologyProblems('integration', {
        exchanges: [{ name: 'audit.events' }],
        queues: [{ name: 'audit.feed', bindings: [{ exchange: 'audit.events', pattern: '#' }] }],
      }),
    ).to.deep.equal([
      'integration declares exchange audit.events, which no contract names',
      'integration declares queue audit.feed, which no contract names',
      'integration binds audit.feed to audit.events, which no contract names',
    ]);
  });
});
