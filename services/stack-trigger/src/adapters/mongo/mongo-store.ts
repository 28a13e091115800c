import { randomUUID } from 'node:crypto';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { AppError } from '@stacklink/errors';
import {
  patchedStack,
  withStackDefaults,
  type NewRun,
  type Run,
  type RunTransition,
  type Stack,
  type StackPatch,
} from '../../domain/model';
import type {
  RunComment,
  RunCommentRepositoryPort,
  RunRepositoryPort,
  StackRepositoryPort,
} from '../../domain/ports';
import { nameTaken, repositoryKey } from '../sqlite/sqlite-store';
import type { Store } from '../store';
import { createMongoDeliveryHistory } from './mongo-delivery-history';
import { createMongoRunLogs, RUN_LOG_COLLECTIONS } from './mongo-run-logs';
import { createMongoWebhookState } from './mongo-webhook-state';

interface StackDoc extends Omit<Stack, 'id'> {
  _id: string;
  repoKey: string;
  /** Bumped by every update, which lands only on the revision it read; absent on older documents. */
  rev?: number;
}

interface RunDoc extends Omit<Run, 'id'> {
  _id: string;
  pullRequestId?: number;
}

interface RunCommentDoc extends Omit<RunComment, 'runId'> {
  _id: string;
  updatedAt: string;
}

interface CounterDoc {
  _id: string;
  last: number;
}

const stackSchema = new Schema<StackDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true, unique: true },
    integrationId: { type: String, required: true },
    repository: { projectKey: String, slug: String },
    repoKey: { type: String, required: true },
    branch: String,
    projectRoot: String,
    additionalProjectGlobs: [String],
    triggerOnTags: Boolean,
    allowForks: Boolean,
    labels: [String],
    // Documents written before these fields existed read as their defaults (toStack).
    prComments: Boolean,
    enabled: Boolean,
    disabledReason: String,
    createdAt: String,
    updatedAt: String,
    rev: Number,
  },
  { versionKey: false, collection: 'stack_trigger_stacks' },
);
stackSchema.index({ integrationId: 1, repoKey: 1 });

const runSchema = new Schema<RunDoc>(
  {
    _id: { type: String, required: true },
    stackId: { type: String, required: true },
    type: { type: String, required: true, enum: ['tracked', 'proposed'] },
    commit: { type: String, required: true },
    ref: String,
    state: { type: String, required: true, enum: ['QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELED'] },
    version: Number,
    sequence: Number,
    pullRequestId: Number,
    pullRequest: { type: Schema.Types.Mixed },
    trigger: { type: Schema.Types.Mixed, required: true },
    note: String,
    canceledBy: String,
    transitions: [{ _id: false, state: String, at: String }],
    startedAt: String,
    summary: { type: Schema.Types.Mixed },
    createdAt: String,
    updatedAt: String,
  },
  { versionKey: false, collection: 'stack_trigger_runs', minimize: true },
);
// The idempotency guarantee of docs/architecture.md §7: one run per (stack, commit, type).
runSchema.index({ stackId: 1, commit: 1, type: 1 }, { unique: true });
runSchema.index({ stackId: 1, sequence: 1 }, { unique: true });
runSchema.index({ state: 1, stackId: 1, sequence: 1 });
runSchema.index({ stackId: 1, pullRequestId: 1, state: 1 });
// GET /runs: newest first, per stack, per state.
runSchema.index({ createdAt: -1, _id: -1 });
runSchema.index({ stackId: 1, createdAt: -1, _id: -1 });
runSchema.index({ state: 1, createdAt: -1, _id: -1 });

const runCommentSchema = new Schema<RunCommentDoc>(
  {
    _id: { type: String, required: true },
    commentId: { type: Number, required: true },
    commentVersion: { type: Number, required: true },
    runVersion: { type: Number, required: true },
    updatedAt: String,
  },
  { versionKey: false, collection: 'stack_trigger_run_comments' },
);

const counterSchema = new Schema<CounterDoc>(
  { _id: String, last: Number },
  { versionKey: false, collection: 'stack_trigger_run_sequences' },
);

/** How often an update of a stack is tried again on a newer read before it gives up with a conflict. */
const UPDATE_ATTEMPTS = 3;

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}

function toStack(doc: StackDoc): Stack {
  const { _id, repoKey: _repoKey, ...rest } = doc;
  return {
    id: _id,
    name: rest.name,
    integrationId: rest.integrationId,
    repository: { projectKey: rest.repository.projectKey, slug: rest.repository.slug },
    branch: rest.branch,
    projectRoot: rest.projectRoot,
    additionalProjectGlobs: [...rest.additionalProjectGlobs],
    triggerOnTags: rest.triggerOnTags,
    allowForks: rest.allowForks,
    labels: [...rest.labels],
    prComments: rest.prComments ?? false,
    enabled: rest.enabled ?? true,
    ...(typeof rest.disabledReason === 'string' ? { disabledReason: rest.disabledReason } : {}),
    createdAt: rest.createdAt,
    updatedAt: rest.updatedAt,
  };
}

function toRun(doc: RunDoc): Run {
  const run: Run = {
    id: doc._id,
    stackId: doc.stackId,
    type: doc.type,
    commit: doc.commit,
    ref: doc.ref,
    state: doc.state,
    version: doc.version,
    sequence: doc.sequence,
    trigger: { ...doc.trigger },
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
  if (doc.pullRequest) run.pullRequest = { ...doc.pullRequest };
  if (doc.note !== undefined && doc.note !== null) run.note = doc.note;
  if (doc.canceledBy === 'operator') run.canceledBy = 'operator';
  // Runs written before timelines were kept: QUEUED at creation, and what came after as far as recorded.
  const recorded: RunTransition[] = (doc.transitions ?? []).map((t) => ({ state: t.state, at: t.at }));
  if (recorded[0]?.state !== 'QUEUED') recorded.unshift({ state: 'QUEUED', at: doc.createdAt });
  if (recorded.length === 1 && doc.state !== 'QUEUED') recorded.push({ state: doc.state, at: doc.updatedAt });
  run.transitions = recorded;
  if (doc.startedAt) run.startedAt = doc.startedAt;
  if (doc.summary) run.summary = doc.summary;
  return run;
}

export async function openMongoStore(url: string, now: () => Date = () => new Date()): Promise<Store> {
  const connection: Connection = await mongoose
    .createConnection(url, { serverSelectionTimeoutMS: 5000 })
    .asPromise();
  const Stacks: Model<StackDoc> = connection.model<StackDoc>('StackTriggerStack', stackSchema);
  const Runs: Model<RunDoc> = connection.model<RunDoc>('StackTriggerRun', runSchema);
  const RunComments: Model<RunCommentDoc> = connection.model<RunCommentDoc>(
    'StackTriggerRunComment',
    runCommentSchema,
  );
  const Counters: Model<CounterDoc> = connection.model<CounterDoc>('StackTriggerRunSequence', counterSchema);
  await Promise.all([Stacks.syncIndexes(), Runs.syncIndexes()]);
  const deliveries = await createMongoDeliveryHistory(connection);
  const logs = await createMongoRunLogs(connection);
  const webhookState = await createMongoWebhookState(connection);

  /**
   * See RunRepositoryPort.create: a run a push created belongs to the pull request of its commit. The
   * run as stored after adopting (or as it is, when it has a pull request already or the input none).
   */
  async function adoptPullRequest(existing: RunDoc, input: NewRun): Promise<RunDoc> {
    if (!input.pullRequest || existing.pullRequestId !== undefined) return existing;
    const adopted = await Runs.findOneAndUpdate(
      { _id: existing._id, pullRequestId: { $exists: false } },
      { $set: { pullRequest: input.pullRequest, pullRequestId: input.pullRequest.id } },
      { new: true },
    ).lean<RunDoc>();
    return adopted ?? (await Runs.findById(existing._id).lean<RunDoc>()) ?? existing;
  }

  const stacks: StackRepositoryPort = {
    async create(input) {
      const at = now().toISOString();
      const doc: StackDoc = {
        _id: randomUUID(),
        ...withStackDefaults(input),
        repoKey: repositoryKey(input.integrationId, input.repository),
        createdAt: at,
        updatedAt: at,
        rev: 0,
      };
      try {
        await Stacks.create(doc);
      } catch (err) {
        if (isDuplicateKey(err)) throw nameTaken(input.name, err);
        throw err;
      }
      return toStack(doc);
    },
    async get(id) {
      const doc = await Stacks.findById(id).lean<StackDoc>();
      return doc ? toStack(doc) : undefined;
    },
    async list(filter = {}) {
      const query = filter.integrationId === undefined ? {} : { integrationId: filter.integrationId };
      return (await Stacks.find(query).sort({ createdAt: 1, _id: 1 }).lean<StackDoc[]>()).map(toStack);
    },
    async listByRepository(integrationId, repository) {
      const docs = await Stacks.find({ integrationId, repoKey: repositoryKey(integrationId, repository) })
        .sort({ _id: 1 })
        .lean<StackDoc[]>();
      return docs.map(toStack);
    },
    async update(id, patch: StackPatch) {
      // SQLite reads and writes in one transaction; here the write lands only if the stack is still at
      // the revision read, so a PATCH that read the stack before a concurrent disable (an integration
      // deleted with force) cannot write `enabled: true` back over it. Otherwise: read again, apply again.
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt += 1) {
        const doc = await Stacks.findById(id).lean<StackDoc>();
        if (!doc) return undefined;
        const next = patchedStack(toStack(doc), patch, now());
        const { id: _id, disabledReason, ...fields } = next;
        let stored: StackDoc | null;
        try {
          stored = await Stacks.findOneAndUpdate(
            { _id: id, rev: doc.rev ?? { $exists: false } },
            {
              $set: {
                ...fields,
                ...(disabledReason === undefined ? {} : { disabledReason }),
                repoKey: repositoryKey(next.integrationId, next.repository),
              },
              $inc: { rev: 1 },
              ...(disabledReason === undefined ? { $unset: { disabledReason: 1 } } : {}),
            },
            { new: true },
          ).lean<StackDoc>();
        } catch (err) {
          if (isDuplicateKey(err)) throw nameTaken(next.name, err);
          throw err;
        }
        if (stored) return toStack(stored);
      }
      throw new AppError(
        'STACK.CONFLICT',
        `stack ${id} was changed by another request at the same time; read it again and retry`,
        { status: 409, retryable: true },
      );
    },
    async delete(id) {
      const runIds = (await Runs.find({ stackId: id }, { _id: 1 }).lean<{ _id: string }[]>()).map(
        (r) => r._id,
      );
      await RunComments.deleteMany({ _id: { $in: runIds } });
      const [logChunks, logTotals] = RUN_LOG_COLLECTIONS.map((name) => connection.collection(name));
      await logChunks!.deleteMany({ runId: { $in: runIds } });
      await logTotals!.deleteMany({ _id: { $in: runIds } } as Record<string, unknown>);
      await Runs.deleteMany({ stackId: id });
      await Counters.deleteOne({ _id: id });
      return (await Stacks.deleteOne({ _id: id })).deletedCount > 0;
    },
  };

  const runs: RunRepositoryPort = {
    async create(input: NewRun) {
      const existing = await Runs.findOne({
        stackId: input.stackId,
        commit: input.commit,
        type: input.type,
      }).lean<RunDoc>();
      if (existing) return { run: toRun(await adoptPullRequest(existing, input)), created: false };
      const counter = await Counters.findOneAndUpdate(
        { _id: input.stackId },
        { $inc: { last: 1 } },
        { upsert: true, new: true },
      ).lean<CounterDoc>();
      const at = now().toISOString();
      const doc: RunDoc = {
        _id: randomUUID(),
        stackId: input.stackId,
        type: input.type,
        commit: input.commit,
        ref: input.ref,
        state: 'QUEUED',
        version: 1,
        sequence: counter.last,
        trigger: input.trigger,
        transitions: [{ state: 'QUEUED', at }],
        createdAt: at,
        updatedAt: at,
        ...(input.pullRequest ? { pullRequest: input.pullRequest, pullRequestId: input.pullRequest.id } : {}),
        ...(input.note === undefined ? {} : { note: input.note }),
      };
      try {
        await Runs.create(doc);
        return { run: toRun(doc), created: true };
      } catch (err) {
        // Another worker inserted the same (stack, commit, type) between our read and our insert.
        if (!isDuplicateKey(err)) throw err;
        const winner = await Runs.findOne({
          stackId: input.stackId,
          commit: input.commit,
          type: input.type,
        }).lean<RunDoc>();
        if (!winner) throw err;
        // The winner may be the push's run and this the pull request's: adopt it here as well.
        return { run: toRun(await adoptPullRequest(winner, input)), created: false };
      }
    },
    async get(id) {
      const doc = await Runs.findById(id).lean<RunDoc>();
      return doc ? toRun(doc) : undefined;
    },
    async find(stackId, commit, type) {
      const doc = await Runs.findOne({ stackId, commit, type }).lean<RunDoc>();
      return doc ? toRun(doc) : undefined;
    },
    async listByStack(stackId, options = {}) {
      const docs = await Runs.find({ stackId })
        .sort({ sequence: -1 })
        .limit(options.limit ?? 100)
        .lean<RunDoc[]>();
      return docs.map(toRun);
    },
    async list(filter) {
      const query: Record<string, unknown> = {};
      if (filter.stackId !== undefined) query.stackId = filter.stackId;
      if (filter.state !== undefined) query.state = filter.state;
      if (filter.before !== undefined)
        query.$or = [
          { createdAt: { $lt: filter.before.createdAt } },
          { createdAt: filter.before.createdAt, _id: { $lt: filter.before.id } },
        ];
      const docs = await Runs.find(query)
        .sort({ createdAt: -1, _id: -1 })
        .limit(filter.limit)
        .lean<RunDoc[]>();
      return docs.map(toRun);
    },
    async listActive() {
      const docs = await Runs.find({ state: { $in: ['QUEUED', 'RUNNING'] } })
        .sort({ stackId: 1, sequence: 1 })
        .lean<RunDoc[]>();
      return docs.map(toRun);
    },
    async transition(id, from, to, note, options = {}) {
      const at = now().toISOString();
      const set: Record<string, unknown> = { state: to, updatedAt: at };
      if (note !== undefined) set.note = note;
      if (options.canceledBy !== undefined) set.canceledBy = options.canceledBy;
      if (options.summary !== undefined) set.summary = options.summary;
      if (to === 'RUNNING') set.startedAt = set.updatedAt;
      const doc = await Runs.findOneAndUpdate(
        { _id: id, state: { $in: [...from] } },
        { $set: set, $inc: { version: 1 }, $push: { transitions: { state: to, at } } },
        { new: true },
      ).lean<RunDoc>();
      if (doc) return { ok: true, run: toRun(doc) };
      return { ok: false, run: await this.get(id) };
    },
    async cancelQueued(filter) {
      const canceled: Run[] = [];
      // One compare-and-set per run: a run a runner took meanwhile stays RUNNING.
      const queued = await Runs.find({ stackId: filter.stackId, state: 'QUEUED' })
        .sort({ sequence: 1 })
        .lean<RunDoc[]>();
      for (const doc of queued) {
        const moved = await this.transition(doc._id, ['QUEUED'], 'CANCELED', filter.note);
        if (moved.ok) canceled.push(moved.run);
      }
      return canceled;
    },
    async cancelQueuedProposed(filter) {
      const query: Record<string, unknown> = {
        state: 'QUEUED',
        type: 'proposed',
        pullRequestId: filter.pullRequestId,
        stackId: { $in: [...filter.stackIds] },
      };
      if (filter.exceptCommit !== undefined) query.commit = { $ne: filter.exceptCommit };
      // One compare-and-set per run: a run a runner took meanwhile stays RUNNING.
      for (const doc of await Runs.find(query).sort({ sequence: 1 }).lean<RunDoc[]>()) {
        await this.transition(doc._id, ['QUEUED'], 'CANCELED', filter.note);
      }
      // Every run this cancellation has canceled, now or on an earlier delivery (see the port).
      const done = await Runs.find({ ...query, state: 'CANCELED', note: filter.note })
        .sort({ sequence: 1 })
        .lean<RunDoc[]>();
      return done.map(toRun);
    },
  };

  const runComments: RunCommentRepositoryPort = {
    async get(runId) {
      const doc = await RunComments.findById(runId).lean<RunCommentDoc>();
      if (!doc) return undefined;
      return {
        runId: doc._id,
        commentId: doc.commentId,
        commentVersion: doc.commentVersion,
        runVersion: doc.runVersion,
      };
    },
    async save(comment) {
      await RunComments.updateOne(
        { _id: comment.runId },
        {
          $set: {
            commentId: comment.commentId,
            commentVersion: comment.commentVersion,
            runVersion: comment.runVersion,
            updatedAt: now().toISOString(),
          },
        },
        { upsert: true },
      );
    },
  };

  return {
    kind: 'mongodb',
    stacks,
    runs,
    runComments,
    deliveries,
    logs,
    webhookHealth: webhookState.webhookHealth,
    seenHeads: webhookState.seenHeads,
    ping: async () => {
      await connection.db?.admin().ping();
      return true;
    },
    close: async () => {
      await connection.close();
    },
  };
}
