import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROLES, variablesOf } from '../../src';

const ROOT = path.resolve(__dirname, '../../../../..');

/**
 * Names the documentation may write that are no role's process configuration, each with where it is
 * read; the last test checks that each one the docs mention really is read there.
 */
const NOT_PROCESS_CONFIG: readonly { names: RegExp; readBy: string[]; reason: string }[] = [
  {
    names: /^(ROLES|RUNNER_ENABLED)$/,
    readBy: ['scripts/up.sh'],
    reason: '`make up` options: which roles to start, whether to start the reference runner',
  },
  {
    names:
      /^(GATEWAY|INTEGRATION|STACK_TRIGGER|CONSOLE)_PORT$|^(TRIGGER|REPORTER|RECONCILER|RUNNER)_METRICS_PORT$/,
    readBy: ['scripts/up.sh'],
    reason: '`make up` ports, passed to each role as its PORT',
  },
  {
    names: /^BENCH_[A-Z0-9_]+$/,
    readBy: ['bench'],
    reason: '`make bench` options (bench/run.js and the benches it starts)',
  },
  {
    names: /^(MONGO_URL|TEST_RABBITMQ_URL|TEST_REDIS_URL|STACKLINK_FIXTURES)$/,
    readBy: ['libs/testing/src', 'services/integration/test', 'services/stack-trigger/test'],
    reason: 'test suites only: the MongoDB contract runs, the test brokers, the public fixture corpora',
  },
  {
    names: /^SIM_[A-Z0-9_]+$/,
    readBy: ['libs/bitbucket-simulator/src/main.ts'],
    reason: 'the Bitbucket simulator (a test and demo tool, not a Stacklink role)',
  },
  {
    names: /^STACKLINK_(INTEGRATION_URL|API_URL|GATEWAY_URL|TOKEN|INTERNAL_TOKEN)$/,
    readBy: ['libs/cli/src/cli-config.ts'],
    reason: 'the `stacklink` command (libs/cli): where the APIs answer and its tokens',
  },
  {
    names: /^STACKLINK_[A-Z0-9_]+$/,
    readBy: ['services/runner/src/domain/run-environment.ts'],
    reason: "what the reference runner puts in its command's environment, for the command to read",
  },
  {
    names: /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LC_ALL|TZ|TMPDIR|TERM)$/,
    readBy: ['services/runner/src/adapters/start-command.ts'],
    reason: "the machine's basics the reference runner passes on to its command (nothing of its own config)",
  },
];

/** README.md, every services/* and libs/* README, deploy/README.md and docs/**: repository-relative. */
function documentationFiles(): string[] {
  const files = ['README.md', 'deploy/README.md'];
  for (const dir of ['services', 'libs'])
    for (const name of readdirSync(path.join(ROOT, dir)).sort())
      if (existsSync(path.join(ROOT, dir, name, 'README.md'))) files.push(`${dir}/${name}/README.md`);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) files.push(rel);
    }
  };
  walk('docs');
  return files;
}

// A bare name needs an underscore (`RABBITMQ_URL`) or is one of the one-word variables, so run states
// such as `FAILED` are not taken for variables; an assignment (`ROLES=trigger`) or a reference
// (`$ADMIN_TOKEN`, `${PUBLIC_UI_URL}`) is a variable whatever its shape.
const BARE = /^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT|HOST|NAMESPACE|ROLE)$/;
const ASSIGNED = /(?:^|\s)([A-Z][A-Z0-9_]*)=/g;
const REFERENCED = /\$\{?([A-Z][A-Z0-9_]*)\}?/g;

/** Every variable-like name written in code (inline spans and fenced blocks) of one Markdown text. */
function documentedVariables(markdown: string): Set<string> {
  const names = new Set<string>();
  const addAll = (text: string) => {
    for (const m of text.matchAll(ASSIGNED)) names.add(m[1]!);
    for (const m of text.matchAll(REFERENCED)) names.add(m[1]!);
  };
  const prose = markdown.replace(/^```[^\n]*\n([\s\S]*?)^```/gm, (_block, code: string) => {
    addAll(code);
    return '';
  });
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) {
    const span = m[1]!.trim();
    if (BARE.test(span)) names.add(span);
    addAll(span);
  }
  return names;
}

/** Names the code itself defines: exported constants (`EVENT_TYPES`) and parts of error codes (`NOT_FOUND`). */
function codeNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        // A constant set from the environment (libs/testing's RABBITMQ_URL) stays a variable.
        for (const m of text.matchAll(
          /export\s+(?:const|let|function|class|enum)\s+([A-Z][A-Z0-9_]*)\b(?!\s*=\s*process\.env)/g,
        ))
          names.add(m[1]!);
        for (const m of text.matchAll(/['`]([A-Z][A-Z0-9_]*)\.([A-Z][A-Z0-9_]*)['`]/g)) {
          names.add(m[1]!);
          names.add(m[2]!);
        }
      }
    }
  };
  for (const top of ['libs', 'services'])
    for (const pkg of readdirSync(path.join(ROOT, top))) {
      const src = path.join(ROOT, top, pkg, 'src');
      if (existsSync(src)) walk(src);
    }
  return names;
}

function fileContains(rel: string, name: string): boolean {
  const p = path.join(ROOT, rel);
  if (!existsSync(p)) return false;
  if (statSync(p).isFile()) return readFileSync(p, 'utf8').includes(name);
  return readdirSync(p, { withFileTypes: true }).some(
    (e) =>
      !e.name.startsWith('.') &&
      e.name !== 'node_modules' &&
      e.name !== 'dist' &&
      fileContains(`${rel}/${e.name}`, name),
  );
}

describe('variables named in the documentation', () => {
  const roleVariables = new Set(ROLES.flatMap((r) => variablesOf(r.schema).map((v) => v.name)));
  const code = codeNames();
  const mentions = documentationFiles().flatMap((file) =>
    [...documentedVariables(readFileSync(path.join(ROOT, file), 'utf8'))]
      .filter((name) => !code.has(name))
      .map((name) => ({ file, name })),
  );

  it('finds variables in backticks, in assignments and in fenced blocks', () => {
    const found = documentedVariables(
      'Set `METRICS_PORT` (9101), `FAILED` is a state, `RUNNER_ENABLED=false make up`, `${PUBLIC_UI_URL}/x`.\n' +
        '```sh\nSTORE_URL=sqlite:x node main.js\n```\n',
    );
    expect([...found].sort()).to.deep.equal(['METRICS_PORT', 'PUBLIC_UI_URL', 'RUNNER_ENABLED', 'STORE_URL']);
  });

  it("every one is read by some role's joi schema, or is listed with its reason as not process config", () => {
    expect(mentions.length, 'documentation mentions found').to.be.above(50);
    const unknown = mentions.filter(
      ({ name }) => !roleVariables.has(name) && !NOT_PROCESS_CONFIG.some((a) => a.names.test(name)),
    );
    expect(
      unknown.map(({ file, name }) => `${file}: ${name} is no role's variable (see docs/configuration.md)`),
    ).to.deep.equal([]);
  });

  it('every name allowed as not process config is really read where the allow-list says', () => {
    const unread = mentions
      .filter(({ name }) => !roleVariables.has(name))
      .flatMap(({ file, name }) => {
        const entry = NOT_PROCESS_CONFIG.find((a) => a.names.test(name));
        return entry && !entry.readBy.some((rel) => fileContains(rel, name))
          ? [`${file}: ${name} is not read in ${entry.readBy.join(', ')} (${entry.reason})`]
          : [];
      });
    expect(unread).to.deep.equal([]);
  });
});
