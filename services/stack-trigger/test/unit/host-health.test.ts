import { expect } from 'chai';
import { createSilentLogger } from '@stacklink/logger';
import { createHostHealth, type HostHealthSettings } from '../../src/domain/host-health';
import type { HostHealthRecord, HostHealthStorePort } from '../../src/domain/ports';

const settings: HostHealthSettings = {
  failureThreshold: 3,
  minPauseMs: 1000,
  maxPauseMs: 4000,
  probeLeaseMs: 500,
};
const HOST = 'https://git.example.com';

function memoryStore(): HostHealthStorePort & { records: Map<string, HostHealthRecord> } {
  const records = new Map<string, HostHealthRecord>();
  return {
    records,
    read: async (host) => records.get(host),
    compareAndSet: async (host, expected, next) => {
      if ((records.get(host)?.version ?? 0) !== expected) return false;
      records.set(host, next);
      return true;
    },
  };
}

function breaker(store = memoryStore()) {
  let clock = 1_000_000;
  const observed: string[] = [];
  let held = 0;
  const gate = createHostHealth({
    store,
    settings,
    logger: createSilentLogger(),
    now: () => clock,
    metrics: { observed: (_host, state) => observed.push(state), held: () => (held += 1) },
  });
  return {
    gate,
    store,
    observed,
    held: () => held,
    advance: (ms: number) => (clock += ms),
  };
}

describe('Bitbucket host breaker', () => {
  it('stays up below the failure threshold and a success clears the count', async () => {
    const { gate } = breaker();
    const admitted = await gate.admit(HOST);
    expect(admitted).to.deep.equal({ allowed: true, probe: false });
    expect(await gate.record(HOST, 'down', admitted)).to.deep.equal({ down: false, retryInMs: 0 });
    expect(await gate.record(HOST, 'down', admitted)).to.deep.equal({ down: false, retryInMs: 0 });
    await gate.record(HOST, 'up', admitted);
    expect(await gate.record(HOST, 'down', admitted)).to.deep.equal({ down: false, retryInMs: 0 });
  });

  it('goes down after repeated failures, holds every call for the pause, then lets exactly one probe through', async () => {
    const { gate, advance, held } = breaker();
    const admitted = await gate.admit(HOST);
    await gate.record(HOST, 'down', admitted);
    await gate.record(HOST, 'down', admitted);
    expect(await gate.record(HOST, 'down', admitted)).to.deep.equal({ down: true, retryInMs: 1000 });

    advance(400);
    expect(await gate.admit(HOST)).to.deep.equal({ allowed: false, retryInMs: 600 });
    expect(held()).to.equal(1);

    advance(600);
    const probe = await gate.admit(HOST);
    expect(probe).to.deep.equal({ allowed: true, probe: true });
    // While the probe is out, everyone else waits for it.
    expect(await gate.admit(HOST)).to.deep.equal({ allowed: false, retryInMs: 500 });
  });

  it('doubles the pause after every failed probe up to the ceiling, and is up again after one good probe', async () => {
    const { gate, advance, observed } = breaker();
    const admitted = await gate.admit(HOST);
    for (let i = 0; i < 3; i++) await gate.record(HOST, 'down', admitted);
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const wait = await gate.admit(HOST);
      advance(wait.allowed ? 0 : wait.retryInMs);
      const probe = await gate.admit(HOST);
      expect(probe).to.deep.equal({ allowed: true, probe: true });
      pauses.push((await gate.record(HOST, 'down', probe)).retryInMs);
    }
    expect(pauses).to.deep.equal([2000, 4000, 4000, 4000]);

    advance(4000);
    const probe = await gate.admit(HOST);
    expect(await gate.record(HOST, 'up', probe)).to.deep.equal({ down: false, retryInMs: 0 });
    expect(await gate.admit(HOST)).to.deep.equal({ allowed: true, probe: false });
    expect(observed).to.include('down');
    expect(observed.at(-1)).to.equal('up');
    expect(observed).to.include('probing');
  });

  it('hands the probe to another caller when the probing one never reports back', async () => {
    const { gate, advance } = breaker();
    const admitted = await gate.admit(HOST);
    for (let i = 0; i < 3; i++) await gate.record(HOST, 'down', admitted);
    advance(1000);
    expect(await gate.admit(HOST)).to.deep.equal({ allowed: true, probe: true });
    advance(499);
    expect((await gate.admit(HOST)).allowed).to.equal(false);
    advance(1);
    expect(await gate.admit(HOST)).to.deep.equal({ allowed: true, probe: true });
  });

  it('does not lengthen the pause for a late failure of a call admitted before the host went down', async () => {
    const { gate } = breaker();
    const admitted = await gate.admit(HOST);
    for (let i = 0; i < 3; i++) await gate.record(HOST, 'down', admitted);
    expect(await gate.record(HOST, 'down', admitted)).to.deep.equal({ down: true, retryInMs: 1000 });
  });

  it('shares one view between breakers over the same store, and calls the host when the store fails', async () => {
    const store = memoryStore();
    const a = breaker(store);
    const b = breaker(store);
    const admitted = await a.gate.admit(HOST);
    for (let i = 0; i < 3; i++) await a.gate.record(HOST, 'down', admitted);
    expect((await b.gate.admit(HOST)).allowed).to.equal(false);
    expect((await b.gate.admit('https://other.example.com')).allowed).to.equal(true);

    const broken = createHostHealth({
      store: {
        read: () => Promise.reject(new Error('redis down')),
        compareAndSet: () => Promise.reject(new Error('redis down')),
      },
      settings,
      logger: createSilentLogger(),
      metrics: { observed: () => undefined, held: () => undefined },
    });
    expect(await broken.admit(HOST)).to.deep.equal({ allowed: true, probe: false });
  });

  it('does not let a caller probe when others keep winning the write, and treats its failure as a wait', async () => {
    const contended = breaker({
      records: new Map(),
      read: async () => ({ state: 'down', failures: 3, downSince: 0, pauseMs: 1000, until: 0, version: 7 }),
      compareAndSet: async () => false,
    });
    expect(await contended.gate.admit(HOST)).to.deep.equal({ allowed: false, retryInMs: 1000 });
    expect(await contended.gate.record(HOST, 'down', { allowed: true, probe: true })).to.deep.equal({
      down: true,
      retryInMs: 1000,
    });
  });
});
