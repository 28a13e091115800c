/** What the reconciler (docs/architecture.md §14) needs beyond the trigger's ports. */

export interface ReconcilerLeasePort {
  readonly holder: string;
  /** Takes or renews the lease: the fencing token of this term, or undefined when another replica holds it. */
  acquire(): Promise<number | undefined>;
  /** Throws RECONCILER.LEASE_LOST unless this replica's term is still the current one. */
  assertHeld(): Promise<void>;
  /** The token of the term this replica last took, if any. */
  token(): number | undefined;
  release(): Promise<void>;
}

export interface WebhookSettingsView {
  mode: 'manual' | 'managed';
  scope: 'repository' | 'project';
}

/** The integration's setting and current webhook secret (for the scoped secret of §12). */
export interface ReconcilerIntegrationsPort {
  /** Undefined when the integration no longer exists. */
  settings(integrationId: string): Promise<WebhookSettingsView | undefined>;
  webhookSecret(integrationId: string): Promise<string | undefined>;
}

export interface ReconcilerMetricsPort {
  webhookAction(action: 'created' | 'repaired' | 'removed' | 'adopted' | 'forbidden'): void;
  recoveryCycle(repositories: number, bitbucketCalls: number, recovered: number): void;
  leader(isLeader: boolean): void;
}
