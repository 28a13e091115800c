import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  EXCHANGE_OWNERS,
  gatewayTopology,
  integrationTopology,
  QUEUE_OWNERS,
  runnerTopology,
  SERVICES,
  stackTriggerTopology,
  topologyProblems,
  type ServiceName,
} from '@stacklink/contracts';

/**
 * One library owns every contract that crosses a process (STYLE.md "Boundaries"): the exchanges and
 * queues, who owns them and what each process asserts are data in libs/contracts. A service never
 * declares an exchange or a queue itself, never names another service's, and only publishes to the
 * exchanges it owns. That no service imports another one's src/ or dist/ is package-entries.test.ts.
 */

const ROOT = path.resolve(__dirname, '../../../../..');

/** What each service asserts on the broker, from libs/contracts, and the name its src uses for it. */
const TOPOLOGIES: Record<ServiceName, { name: string; topology: Parameters<typeof topologyProblems>[1] }> = {
  'webhook-gateway': { name: 'gatewayTopology', topology: gatewayTopology('replica-1') },
  integration: { name: 'integrationTopology', topology: integrationTopology },
  'stack-trigger': { name: 'stackTriggerTopology', topology: stackTriggerTopology },
  runner: { name: 'runnerTopology', topology: runnerTopology },
};

/** The helpers that publish to an exchange, by exchange: only its owner may import them. */
const PUBLISHERS: Record<string, string[]> = {
  runs: ['publishRunMessage'],
  'integration.events': ['publishIntegrationEvent'],
  'vcs.events': ['toBusMessage'],
  deliveries: ['publishDeliveryRecords'],
};

/** The queue specs of libs/contracts, by queue: only a service that may declare the queue may import them. */
const QUEUE_SPECS: Record<string, string[]> = {
  'stack-trigger.vcs-events': ['vcsEventsQueueSpec'],
  'stack-trigger.status-updates': ['statusUpdatesQueueSpec'],
  'runs.ready': ['runsReadyQueueSpec'],
  'stack-trigger.delivery-records': ['deliveryRecordsQueueSpec'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Names imported from `specifier` in `source` (`import { a, b as c, type D } from '…'`). */
function importedNames(source: string, specifier: string): string[] {
  const names: string[] = [];
  const form = new RegExp(`import\\s*(?:type\\s*)?\\{([^}]*)\\}\\s*from\\s*['"]${specifier}['"]`, 'g');
  for (const match of source.matchAll(form)) {
    for (const part of match[1]!.split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0]!
        .trim();
      if (name !== '') names.push(name);
    }
  }
  return names;
}

interface Scanned {
  /** The source with comments and string contents blanked out; line breaks kept. */
  code: string;
  /** Its string literals ('…', "…", and `…` without substitutions), with their line. */
  strings: { line: number; value: string }[];
}

/** Splits TypeScript source into code and string literals, leaving comments out of both. */
function scan(source: string): Scanned {
  let code = '';
  const strings: Scanned['strings'] = [];
  let line = 1;
  let i = 0;
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    const ch = source[i]!;
    const next = source[i + 1];
    let end: number;
    if (ch === '/' && next === '/') {
      end = source.indexOf('\n', i);
      end = end === -1 ? source.length : end;
      code += blank(source.slice(i, end));
    } else if (ch === '/' && next === '*') {
      end = source.indexOf('*/', i + 2);
      end = end === -1 ? source.length : end + 2;
      code += blank(source.slice(i, end));
    } else if (ch === "'" || ch === '"' || ch === '`') {
      end = i + 1;
      while (end < source.length && source[end] !== ch) end += source[end] === '\\' ? 2 : 1;
      end += 1;
      const value = source.slice(i + 1, end - 1);
      if (!(ch === '`' && value.includes('${'))) strings.push({ line, value });
      code += ch + blank(value) + ch;
    } else {
      end = i + 1;
      code += ch;
    }
    line += source.slice(i, end).split('\n').length - 1;
    i = end;
  }
  return { code, strings };
}

/** Every way the sources of `service` (file → text) step outside what it owns. */
export function ownershipProblems(service: ServiceName, files: Record<string, string>): string[] {
  const problems: string[] = [];
  const exchanges = Object.keys(EXCHANGE_OWNERS);
  for (const [file, source] of Object.entries(files)) {
    const { code, strings } = scan(source);
    code.split('\n').forEach((text, i) => {
      if (/\.(assertExchange|assertQueue|bindQueue|deleteQueue|deleteExchange)\s*\(/.test(text))
        problems.push(`${file}:${i + 1}: declares broker objects itself; topology is data in libs/contracts`);
      if (/^\s*(exchanges|queues|bindings)\s*:/.test(text))
        problems.push(`${file}:${i + 1}: writes topology data; take it from libs/contracts`);
    });
    const lines = code.split('\n');
    for (const { line, value } of strings) {
      // A key in a type (`Pick<Deps, 'runs'>`) is a property name, not an exchange.
      if (/\b(Pick|Omit|Extract|Exclude)</.test(lines[line - 1] ?? '')) continue;
      const base = value.replace(/\.dlq$/, '');
      if (exchanges.includes(value))
        problems.push(
          `${file}:${line}: names exchange ${value} (of ${EXCHANGE_OWNERS[value]}) instead of its constant`,
        );
      const queue = QUEUE_OWNERS.find((q) => (q.prefix ? base.startsWith(q.name) : base === q.name));
      if (queue !== undefined)
        problems.push(`${file}:${line}: names queue ${value} (of ${queue.consumer}) instead of its constant`);
    }
    const names = importedNames(source, '@stacklink/contracts').concat(
      importedNames(source, '@stacklink/events'),
    );
    for (const [other, { name }] of Object.entries(TOPOLOGIES)) {
      if (other !== service && names.includes(name))
        problems.push(`${file}: asserts ${other}'s topology (${name})`);
    }
    for (const [exchange, helpers] of Object.entries(PUBLISHERS)) {
      for (const helper of helpers) {
        if (EXCHANGE_OWNERS[exchange] !== service && names.includes(helper))
          problems.push(
            `${file}: publishes to ${exchange} (${helper}), which ${EXCHANGE_OWNERS[exchange]} owns`,
          );
      }
    }
    for (const [queue, specs] of Object.entries(QUEUE_SPECS)) {
      const ownership = QUEUE_OWNERS.find((q) => q.name === queue)!;
      for (const spec of specs) {
        if (!ownership.declaredBy.includes(service) && names.includes(spec))
          problems.push(`${file}: declares queue ${queue} (${spec}) of ${ownership.consumer}`);
      }
    }
  }
  return problems;
}

/** Services that use no broker at all: the console reaches the others over their HTTP APIs only. */
const BROKERLESS = ['console'];

function serviceSources(service: string): Record<string, string> {
  const dir = path.join(ROOT, 'services', service, 'src');
  return Object.fromEntries(sourceFiles(dir).map((f) => [path.relative(ROOT, f), readFileSync(f, 'utf8')]));
}

describe('every exchange and queue has one owner, and services keep to their own', () => {
  it('knows every service of the repository', () => {
    const present = readdirSync(path.join(ROOT, 'services')).sort();
    expect(present).to.deep.equal([...SERVICES, ...BROKERLESS].sort());
  });

  for (const service of BROKERLESS) {
    it(`${service} uses no broker, so it declares and publishes nothing`, () => {
      const users = Object.entries(serviceSources(service))
        .filter(([, source]) => /from ['"](@stacklink\/bus|amqplib)['"]/.test(source))
        .map(([file]) => file);
      expect(users).to.deep.equal([]);
    });
  }

  for (const service of SERVICES) {
    it(`${service} asserts only what libs/contracts lets it declare`, () => {
      expect(topologyProblems(service, TOPOLOGIES[service].topology)).to.deep.equal([]);
    });

    it(`${service} declares, names and publishes to nothing it does not own`, () => {
      expect(ownershipProblems(service, serviceSources(service))).to.deep.equal([]);
    });
  }

  it('catches a service that declares another service’s exchange or queue, or publishes to it', () => {
    const copy = [
      "import { publishRunMessage, stackTriggerTopology } from '@stacklink/contracts';",
      "export const INTEGRATION_EVENTS_EXCHANGE = 'integration.events';",
      'export const topology = {',
      "  exchanges: [{ name: 'runs' }],",
      "  queues: [{ name: 'stack-trigger.status-updates', bindings: [] }],",
      '};',
      "await channel.assertQueue('runs.ready.dlq');",
    ].join('\n');
    expect(ownershipProblems('webhook-gateway', { 'copy.ts': copy })).to.deep.equal([
      'copy.ts:4: writes topology data; take it from libs/contracts',
      'copy.ts:5: writes topology data; take it from libs/contracts',
      'copy.ts:7: declares broker objects itself; topology is data in libs/contracts',
      'copy.ts:2: names exchange integration.events (of integration) instead of its constant',
      'copy.ts:4: names exchange runs (of stack-trigger) instead of its constant',
      'copy.ts:5: names queue stack-trigger.status-updates (of stack-trigger) instead of its constant',
      'copy.ts:7: names queue runs.ready.dlq (of runner) instead of its constant',
      "copy.ts: asserts stack-trigger's topology (stackTriggerTopology)",
      'copy.ts: publishes to runs (publishRunMessage), which stack-trigger owns',
    ]);
  });
});
