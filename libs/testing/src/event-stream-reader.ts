/** One server-sent event as the HTML spec's parser assembles it. */
export interface ServerSentEvent {
  /** `message` when the server named none. */
  event: string;
  /** The data lines joined by `\n`. */
  data: string;
  id?: string;
}

export interface EventStreamReader {
  status: number;
  headers: Headers;
  /** Every event so far, in order. */
  readonly events: ServerSentEvent[];
  /** Comment lines (`: heartbeat`) so far, without the colon. */
  readonly comments: string[];
  /** Settles when the server ended the stream (or `close()` was called). */
  readonly ended: Promise<void>;
  /** The first event (from the start) matching `predicate`, waiting up to `timeoutMs` (5000) for it. */
  waitForEvent(
    predicate: (event: ServerSentEvent) => boolean,
    options?: { timeoutMs?: number; message?: string },
  ): Promise<ServerSentEvent>;
  close(): void;
}

/**
 * Opens a `text/event-stream` answer with fetch and parses it as a browser's EventSource does (event,
 * data, id; comments kept apart), without reconnecting: a test reconnects itself, with `Last-Event-ID`,
 * to check what the server resumes from. A non-2xx answer is read whole and resolves with no events.
 */
export async function openEventStream(
  url: string,
  options: { headers?: Record<string, string> } = {},
): Promise<EventStreamReader> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...options.headers },
    signal: abort.signal,
  });
  const events: ServerSentEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  let done = false;

  let pending: Partial<ServerSentEvent> & { dataLines?: string[] } = {};
  const line = (text: string) => {
    if (text === '') {
      if (pending.dataLines !== undefined) {
        events.push({
          event: pending.event ?? 'message',
          data: pending.dataLines.join('\n'),
          ...(pending.id === undefined ? {} : { id: pending.id }),
        });
        changed();
      }
      pending = {};
      return;
    }
    if (text.startsWith(':')) {
      comments.push(text.slice(1).trim());
      changed();
      return;
    }
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') pending.event = value;
    else if (field === 'data') (pending.dataLines ??= []).push(value);
    else if (field === 'id') pending.id = value;
  };

  const ended = (async () => {
    if (!res.ok || res.body === null) {
      await res.text().catch(() => undefined);
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(part, { stream: true });
        let newline: number;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const sep = buffer.startsWith('\r\n', newline) ? 2 : 1;
          line(buffer.slice(0, newline));
          buffer = buffer.slice(newline + sep);
        }
      }
    } catch {
      // Aborted by close(), or the connection dropped: the stream ended either way.
    }
  })().finally(() => {
    done = true;
    changed();
  });

  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    ended,
    waitForEvent(predicate, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 5000;
      return new Promise<ServerSentEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (found !== undefined) finish(() => resolve(found));
          else if (done)
            finish(() =>
              reject(new Error(`${waitOptions.message ?? 'event did not come'}: the stream ended`)),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`${waitOptions.message ?? 'event did not come'} within ${timeoutMs} ms`)),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      abort.abort();
    },
  };
}
