import { print, type CommandGroup, type Options, type Values } from '../command';
import { CliError, EXIT } from '../exit-codes';
import { details, table } from '../output';
import type { RunAnswer, StackAnswer } from '@stacklink/contracts';

const path = (id: string, suffix = '') => `/api/v1/stacks/${encodeURIComponent(id)}${suffix}`;

export function showStack(s: StackAnswer): string {
  return details([
    ['id', s.id],
    ['name', s.name],
    ['integration', s.integrationId],
    ['repository', `${s.repository.projectKey}/${s.repository.slug}`],
    ['branch', s.branch],
    ['project root', s.projectRoot === '' ? '(whole repository)' : s.projectRoot],
    ['additional globs', s.additionalProjectGlobs],
    ['trigger on tags', s.triggerOnTags],
    ['allow forks', s.allowForks],
    ['pull-request comments', s.prComments],
    ['labels', s.labels],
    ['enabled', s.enabled ? 'yes' : `no${s.disabledReason === undefined ? '' : ` (${s.disabledReason})`}`],
    ['created', s.createdAt],
    ['updated', s.updatedAt],
  ]);
}

export function runTable(runs: readonly RunAnswer[]): string {
  return table(runs, [
    ['id', (r) => r.id],
    ['stack', (r) => r.stackId],
    ['type', (r) => r.type],
    ['state', (r) => r.state],
    ['commit', (r) => r.commit.slice(0, 12)],
    ['ref', (r) => r.ref],
    ['created', (r) => r.createdAt],
  ]);
}

const STACK_OPTIONS: Options = {
  name: { type: 'string' },
  integration: { type: 'string' },
  repository: { type: 'string' },
  branch: { type: 'string' },
  'project-root': { type: 'string' },
  glob: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  'trigger-on-tags': { type: 'boolean' },
  'allow-forks': { type: 'boolean' },
  'pr-comments': { type: 'boolean' },
};

const STACK_HELP = [
  '--repository PROJECT/slug   the Bitbucket repository (project key / repository slug)',
  '--branch <name>             the tracked branch',
  '--project-root <dir>        directory of the stack inside the repository (default: the whole repository)',
  '--glob <glob>               more files that trigger the stack (repeatable)',
  '--label <label>             repeatable',
  '--trigger-on-tags, --allow-forks, --pr-comments   switch the option on (update: --no-… switches off)',
];

/** `--no-trigger-on-tags` etc. for update: booleans that may be switched off. */
const NEGATABLE = ['trigger-on-tags', 'allow-forks', 'pr-comments'] as const;
const UPDATE_OPTIONS: Options = {
  ...STACK_OPTIONS,
  ...Object.fromEntries(NEGATABLE.map((n) => [`no-${n}`, { type: 'boolean' }])),
  enable: { type: 'boolean' },
};

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** The stack fields the options set (only those given). */
function stackBody(values: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of ['name', 'branch', 'project-root'] as const) {
    if (values[name] !== undefined) body[camel(name)] = values[name];
  }
  if (values.integration !== undefined) body.integrationId = values.integration;
  if (typeof values.repository === 'string') {
    const match = /^([^/\s]+)\/([^/\s]+)$/.exec(values.repository);
    if (match === null) throw new CliError(EXIT.INVALID_INPUT, '--repository must be PROJECT/slug');
    body.repository = { projectKey: match[1], slug: match[2] };
  }
  if (Array.isArray(values.glob)) body.additionalProjectGlobs = values.glob;
  if (Array.isArray(values.label)) body.labels = values.label;
  for (const name of NEGATABLE) {
    if (values[name] === true && values[`no-${name}`] === true) {
      throw new CliError(EXIT.USAGE, `--${name} and --no-${name} contradict each other`);
    }
    if (values[name] === true) body[camel(name)] = true;
    if (values[`no-${name}`] === true) body[camel(name)] = false;
  }
  if (values.enable === true) body.enabled = true;
  return body;
}

export const stackCommands: CommandGroup = {
  name: 'stacks',
  summary: 'infrastructure stacks (list, show, create, update, disable, delete, trigger)',
  commands: [
    {
      name: 'list',
      summary: 'every stack',
      usage: '',
      async run(ctx) {
        const answer = await ctx.api().request<{ stacks: StackAnswer[] }>({ path: '/api/v1/stacks' });
        print(ctx, answer, (a) =>
          table(a.stacks, [
            ['id', (s) => s.id],
            ['name', (s) => s.name],
            ['repository', (s) => `${s.repository.projectKey}/${s.repository.slug}`],
            ['branch', (s) => s.branch],
            ['root', (s) => s.projectRoot || '.'],
            ['enabled', (s) => (s.enabled ? 'yes' : 'no')],
          ]),
        );
      },
    },
    {
      name: 'show',
      summary: 'one stack',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        print(ctx, await ctx.api().request<StackAnswer>({ path: path(id!) }), showStack);
      },
    },
    {
      name: 'create',
      summary: 'a new stack',
      usage:
        '--name <name> --integration <id> --repository PROJECT/slug --branch <branch> [--project-root <dir>] [--glob <glob>]… [--label <label>]… [--trigger-on-tags] [--allow-forks] [--pr-comments]',
      help: STACK_HELP,
      options: STACK_OPTIONS,
      async run(ctx, values) {
        for (const required of ['name', 'integration', 'repository', 'branch']) {
          if (values[required] === undefined) throw new CliError(EXIT.USAGE, `--${required} is required`);
        }
        const stack = await ctx
          .api()
          .request<StackAnswer>({ method: 'POST', path: '/api/v1/stacks', body: stackBody(values) });
        print(ctx, stack, showStack);
      },
    },
    {
      name: 'update',
      summary: 'changes the options given, leaves the others (--enable enables a disabled stack)',
      usage: '<id> [--name …] [--branch …] [--project-root …] [--no-trigger-on-tags] [--enable] …',
      help: STACK_HELP,
      options: UPDATE_OPTIONS,
      positionals: { min: 1, max: 1 },
      async run(ctx, values, [id]) {
        const body = stackBody(values);
        if (Object.keys(body).length === 0)
          throw new CliError(EXIT.USAGE, 'nothing to change: give an option');
        print(
          ctx,
          await ctx.api().request<StackAnswer>({ method: 'PATCH', path: path(id!), body }),
          showStack,
        );
      },
    },
    {
      name: 'disable',
      summary: 'stops the stack from starting runs (stacks update --enable starts it again)',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        const stack = await ctx
          .api()
          .request<StackAnswer>({ method: 'PATCH', path: path(id!), body: { enabled: false } });
        print(ctx, stack, showStack);
      },
    },
    {
      name: 'delete',
      summary: 'deletes the stack',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        await ctx.api().request<undefined>({ method: 'DELETE', path: path(id!) });
        print(ctx, { deleted: id }, () => `deleted stack ${id}`);
      },
    },
    {
      name: 'trigger',
      summary: 'a manual run of a commit (an existing run of that commit is shown instead)',
      usage: '<id> --commit <sha> [--proposed] [--ref refs/…] [--note <text>]',
      help: ['--proposed  a proposed (plan-only) run instead of a tracked one'],
      options: {
        commit: { type: 'string' },
        proposed: { type: 'boolean' },
        ref: { type: 'string' },
        note: { type: 'string' },
      },
      positionals: { min: 1, max: 1 },
      async run(ctx, values, [id]) {
        if (values.commit === undefined) throw new CliError(EXIT.USAGE, '--commit is required');
        const run = await ctx.api().request<RunAnswer>({
          method: 'POST',
          path: path(id!, '/runs'),
          body: {
            commit: values.commit,
            type: values.proposed === true ? 'proposed' : 'tracked',
            ...(values.ref === undefined ? {} : { ref: values.ref }),
            ...(values.note === undefined ? {} : { note: values.note }),
          },
        });
        print(ctx, run, (r) => runTable([r]));
      },
    },
  ],
};
