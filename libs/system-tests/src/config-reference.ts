import { ROLES, variablesOf, type VariableSpec } from './roles';

function cell(v: VariableSpec): string {
  if (v.required) return '**required**';
  if (v.default === undefined) return 'optional';
  const text = typeof v.default === 'string' ? v.default : JSON.stringify(v.default);
  return text === '' ? '`""`' : `\`${text}\``;
}

function constraint(v: VariableSpec): string {
  const parts = [v.type, ...v.rules];
  const allowed = v.allowed.filter((a) => a !== '');
  if (allowed.length > 0) parts.push(`one of ${allowed.map((a) => `\`${String(a)}\``).join(', ')}`);
  return parts.join(', ');
}

/**
 * docs/configuration.md, generated from the joi schemas each process validates its environment with,
 * so the reference cannot drift from the code (a test compares the committed file with this output).
 */
export function renderConfigurationReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from the joi schemas by libs/system-tests (src/config-reference.ts); do not edit.',
    '     Regenerate: node libs/system-tests/dist/src/generate-config-reference.js -->',
    '',
    'Every process reads environment variables only and validates them with joi at start: a bad value',
    'stops the process with a message naming each bad variable',
    '([architecture §2](architecture.md#2-processes-ports-configuration)). Variables not listed for a role',
    'are ignored by it.',
    '',
  ];
  const roles = new Map<string, string[]>();
  for (const r of ROLES)
    for (const v of variablesOf(r.schema)) roles.set(v.name, [...(roles.get(v.name) ?? []), r.role]);
  lines.push('## Which role reads what', '', '| variable | roles |', '|---|---|');
  for (const [name, rs] of [...roles].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`| \`${name}\` | ${rs.join(', ')} |`);
  for (const r of ROLES) {
    lines.push(
      '',
      `## ${r.role} — ${r.title}`,
      '',
      `Entry point: \`node ${r.entry}\``,
      '',
      '| variable | default | constraint |',
      '|---|---|---|',
    );
    for (const v of variablesOf(r.schema)) lines.push(`| \`${v.name}\` | ${cell(v)} | ${constraint(v)} |`);
  }
  return `${lines.join('\n')}\n`;
}
