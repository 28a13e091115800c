import type { ClockPort } from '../../src/domain/ports';

export interface FakeClock extends ClockPort {
  advance(ms: number): void;
}

/** A clock tests move by hand, so a 24 h grace period takes no time at all. */
export function createFakeClock(start = new Date('2030-01-01T00:00:00.000Z')): FakeClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
  };
}
