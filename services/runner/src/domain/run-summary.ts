import {
  MAX_RUN_ANNOTATIONS,
  runAnnotationSchema,
  type RunAnnotation,
  type RunSummary,
} from '@stacklink/contracts';

/**
 * The run summary the reference runner sends with the final state (README "Run summary"): plan
 * counts from a `terraform show -json`-shaped file, annotations passed through from another file.
 */

/** Counts of a plan in `terraform show -json` form: a replacement is one add and one destroy, as Terraform counts it. */
export function planCounts(
  plan: unknown,
): Pick<RunSummary, 'add' | 'change' | 'destroy' | 'summary'> | undefined {
  const changes = (plan as { resource_changes?: unknown } | null)?.resource_changes;
  if (!Array.isArray(changes)) return undefined;
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const item of changes) {
    const actions = (item as { change?: { actions?: unknown } } | null)?.change?.actions;
    if (!Array.isArray(actions)) continue;
    if (actions.includes('create')) add++;
    if (actions.includes('delete')) destroy++;
    if (actions.includes('update')) change++;
  }
  return {
    add,
    change,
    destroy,
    summary: `Plan: ${add} to add, ${change} to change, ${destroy} to destroy.`,
  };
}

/**
 * The annotations a command wrote (`[{path, line?, severity, message, link?}]`, or `{annotations: [...]}`):
 * each checked against the runner contract; invalid ones are dropped and counted, at most 1,000 kept.
 */
export function validAnnotations(value: unknown): { annotations: RunAnnotation[]; dropped: number } {
  const list = Array.isArray(value) ? value : (value as { annotations?: unknown } | null)?.annotations;
  if (!Array.isArray(list)) return { annotations: [], dropped: 0 };
  const annotations: RunAnnotation[] = [];
  let dropped = 0;
  for (const item of list) {
    const checked = runAnnotationSchema.validate(item, { stripUnknown: true });
    if (checked.error !== undefined || annotations.length >= MAX_RUN_ANNOTATIONS) dropped++;
    else annotations.push(checked.value as RunAnnotation);
  }
  return { annotations, dropped };
}

/** The summary of both files' contents (undefined where a file is absent); undefined when neither says anything. */
export function runSummary(plan: unknown, annotations: unknown): { summary?: RunSummary; dropped: number } {
  const counts = plan === undefined ? undefined : planCounts(plan);
  const found = annotations === undefined ? { annotations: [], dropped: 0 } : validAnnotations(annotations);
  const summary: RunSummary = { ...counts };
  if (found.annotations.length > 0) summary.annotations = found.annotations;
  return Object.keys(summary).length === 0 ? { dropped: found.dropped } : { summary, dropped: found.dropped };
}
