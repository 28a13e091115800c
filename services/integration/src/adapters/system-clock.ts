import type { ClockPort } from '../domain/ports';

export const systemClock: ClockPort = { now: () => new Date() };
