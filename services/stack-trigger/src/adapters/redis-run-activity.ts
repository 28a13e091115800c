import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Logger } from '@stacklink/logger';
import type { RunActivityPort } from '../domain/ports';
import { redisKeyPrefix } from './redis-run-queue';

export interface RedisRunActivity extends RunActivityPort {
  /** Subscribes the dedicated connection (pub/sub holds a connection of its own). */
  start(): Promise<void>;
  close(): void;
  isReady(): boolean;
}

/**
 * Run activity across API replicas (docs/architecture.md §4, "Run logs"): one channel,
 * `<NAMESPACE>:stack-trigger:run-activity`, carrying `<replica id> <run id>`. Listeners of this process
 * are called at once; other replicas learn through Redis. Losing Redis delays streams by one poll
 * (RUN_LOG_STREAM_POLL_MS), nothing more: the streams read the store, not the messages.
 */
export function createRedisRunActivity(options: {
  redis: Redis;
  namespace: string;
  logger: Logger;
}): RedisRunActivity {
  const channel = `${redisKeyPrefix(options.namespace)}run-activity`;
  const replica = randomUUID();
  const listeners = new Map<string, Set<() => void>>();
  const subscriber = options.redis.duplicate({ maxRetriesPerRequest: null });
  subscriber.on('error', (err) => options.logger.debug('redis subscriber error', { err }));

  const notify = (runId: string) => {
    for (const listener of listeners.get(runId) ?? []) listener();
  };
  subscriber.on('message', (_channel: string, message: string) => {
    const space = message.indexOf(' ');
    if (space < 0 || message.slice(0, space) === replica) return;
    notify(message.slice(space + 1));
  });

  return {
    /** Waits up to 2 s for the subscription; Redis down at start only means polling until it is back. */
    async start() {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        subscriber.subscribe(channel),
        new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
      ])
        .catch((err: unknown) => options.logger.warn('run activity subscription failed', { err }))
        .finally(() => clearTimeout(timer));
    },
    close() {
      subscriber.disconnect();
      listeners.clear();
    },
    isReady: () => subscriber.status === 'ready',
    async announce(runId) {
      notify(runId);
      await options.redis.publish(channel, `${replica} ${runId}`);
    },
    subscribe(runId, listener) {
      let set = listeners.get(runId);
      if (set === undefined) listeners.set(runId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(runId) === set) listeners.delete(runId);
      };
    },
  };
}
