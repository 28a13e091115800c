/**
 * The port through which the client asks whether a Bitbucket host may be called and tells how a call
 * went (docs/architecture.md §9, docs/decisions/008-bitbucket-host-breaker.md). The client knows nothing
 * of where that view is kept; stack-trigger implements it over Redis so every worker shares it.
 */
export interface HostGate {
  /** Before every HTTP call to `host` (an origin, e.g. `https://git.example.com`). */
  admit(host: string): Promise<HostAdmission>;
  /**
   * After the call: `down` for a connection failure, timeout or 5xx, `up` for any answer from the
   * host itself (2xx, 4xx, 429). Resolves with whether the host is now resting and for how long.
   */
  record(host: string, outcome: 'up' | 'down', admission: HostAdmission): Promise<HostVerdict>;
}

export type HostAdmission = { allowed: true; probe: boolean } | { allowed: false; retryInMs: number };

export interface HostVerdict {
  down: boolean;
  /** When `down`: how long until the next probe may go. */
  retryInMs: number;
}
