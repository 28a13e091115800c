import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

/**
 * Every workspace package is used through its public entry: its package.json `main`, `types` and
 * `exports` name files the build produces (the runtime image holds only package.json and dist/), and no
 * other code reaches into a package's src/ or dist/ — Node refuses such imports at run time once the
 * package has an `exports` map, and they tie the importer to the file layout rather than to the API.
 */

const ROOT = path.resolve(__dirname, '../../../../..');

interface WorkspacePackage {
  /** Directory relative to the repository root, e.g. `services/runner`. */
  dir: string;
  name: string;
  manifest: Record<string, unknown>;
}

function workspacePackages(): WorkspacePackage[] {
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return root.workspaces.flatMap((pattern) => {
    // The workspaces are `<folder>/*`; anything else would need a glob library.
    expect(pattern, 'workspace pattern').to.match(/^[a-z-]+\/\*$/);
    const parent = pattern.slice(0, -2);
    return readdirSync(path.join(ROOT, parent))
      .map((entry) => `${parent}/${entry}`)
      .filter((dir) => existsSync(path.join(ROOT, dir, 'package.json')))
      .map((dir) => {
        const manifest = JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        return { dir, name: String(manifest.name), manifest };
      });
  });
}

/** Every file target of an `exports` value (strings, condition objects, nested), by subpath. */
function exportTargets(exports: unknown, subpath = '.'): { subpath: string; target: string }[] {
  if (typeof exports === 'string') return [{ subpath, target: exports }];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) =>
    exportTargets(value, key.startsWith('.') ? key : subpath),
  );
}

interface ImportSite {
  line: number;
  specifier: string;
}

// `import … from '…'`, `export … from '…'`, `import '…'`, `import('…')`, `require('…')`. Only these:
// a path in a plain string (a process to spawn, a file to read) is not an import.
const IMPORT_FORMS = [
  /\bfrom\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];

function importSites(source: string): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const form of IMPORT_FORMS) {
    for (const match of source.matchAll(form)) {
      const line = source.slice(0, match.index).split('\n').length;
      sites.push({ line, specifier: match[2]! });
    }
  }
  return sites.sort((a, b) => a.line - b.line);
}

/**
 * Why `specifier`, imported by `file` (absolute), bypasses a package's public entry; undefined when it
 * does not. `ownDir` is the importer's package directory (relative to the root), if it is in one.
 */
function deepImportProblem(
  specifier: string,
  file: string,
  ownDir: string | undefined,
  packages: readonly WorkspacePackage[],
): string | undefined {
  const scoped = /^(@stacklink\/[^/]+)\/(.+)$/.exec(specifier);
  if (scoped) {
    const [, name, subpath] = scoped as unknown as [string, string, string];
    const target = packages.find((p) => p.name === name);
    const exported = exportTargets(target?.manifest.exports).some((t) => t.subpath === `./${subpath}`);
    if (/^(dist|src)(\/|$)/.test(subpath) || !exported)
      return `reaches into ${name}'s ${subpath}: import '${name}' (or a subpath its package.json exports)`;
    return undefined;
  }
  if (!specifier.startsWith('.')) return undefined;
  const resolved = path
    .relative(ROOT, path.resolve(path.dirname(file), specifier))
    .split(path.sep)
    .join('/');
  const other = packages.find(
    (p) => p.dir !== ownDir && (resolved === p.dir || resolved.startsWith(`${p.dir}/`)),
  );
  if (other) return `reaches into ${other.dir} by a relative path: import '${other.name}'`;
  return undefined;
}

function filesUnder(dir: string, extension: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist') return [];
    if (statSync(full).isDirectory()) return filesUnder(full, extension);
    return entry.endsWith(extension) && !entry.endsWith('.d.ts') ? [full] : [];
  });
}

describe('workspace package entries', () => {
  const packages = workspacePackages();

  it('finds the workspace packages', () => {
    expect(packages.map((p) => p.dir)).to.include.members(['libs/bus', 'services/runner']);
  });

  it('main, types and every exports target of each package.json exist after the build', () => {
    const missing: string[] = [];
    for (const p of packages) {
      const { main, types, exports } = p.manifest;
      if (exports === undefined)
        missing.push(`${p.dir}/package.json: no "exports" map (deep imports stay open)`);
      const targets = [
        { field: 'main', target: main },
        { field: 'types', target: types },
        ...exportTargets(exports).map((t) => ({ field: `exports["${t.subpath}"]`, target: t.target })),
      ];
      for (const { field, target } of targets) {
        if (typeof target !== 'string') missing.push(`${p.dir}/package.json: no "${field}"`);
        else if (!existsSync(path.join(ROOT, p.dir, target)))
          missing.push(`${p.dir}/package.json: ${field} ${target} does not exist`);
      }
    }
    expect(missing, missing.join('\n')).to.deep.equal([]);
  });

  it('no code imports another package by its src/ or dist/ files, only by its public entry', () => {
    const scanned = [
      ...packages.flatMap((p) =>
        ['src', 'test'].flatMap((sub) =>
          filesUnder(path.join(ROOT, p.dir, sub), '.ts').map((file) => ({ file, ownDir: p.dir })),
        ),
      ),
      ...filesUnder(path.join(ROOT, 'bench'), '.js').map((file) => ({ file, ownDir: undefined })),
      ...filesUnder(path.join(ROOT, 'scripts'), '.js').map((file) => ({ file, ownDir: undefined })),
    ];
    expect(scanned.length, 'files scanned').to.be.greaterThan(100);
    const problems: string[] = [];
    for (const { file, ownDir } of scanned) {
      for (const site of importSites(readFileSync(file, 'utf8'))) {
        const problem = deepImportProblem(site.specifier, file, ownDir, packages);
        if (problem)
          problems.push(`${path.relative(ROOT, file)}:${site.line}: '${site.specifier}' ${problem}`);
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('recognises deep imports in every form it scans for, and leaves spawn paths alone', () => {
    const source = [
      'import { a } from `@stacklink/bus/dist/src/names`;',
      `import {`,
      `  b,`,
      '} from `@stacklink/runner/src/contract`;',
      'const c = require(`@stacklink/stack-trigger/dist/src/app`);',
      'const d = await import(`../../../../services/runner/dist/src/config`);',
      'import `@stacklink/events/dist/src/paths`;',
      'const e = require(`@stacklink/bitbucket/signature`);',
      'import { f } from `@stacklink/bus`;',
      'import { g } from `../support/system`;',
      'const entry = `services/webhook-gateway/dist/src/main.js`;',
      'spawn(process.execPath, [path.join(ROOT, `services/runner/dist/src/main.js`)]);',
    ]
      .join('\n')
      // Backticks stand for quotes here, so that this file's own scan does not flag its samples.
      .replace(/`/g, "'");
    const file = path.join(ROOT, 'libs/system-tests/test/deploy/example.test.ts');
    const flagged = importSites(source)
      .filter((site) => deepImportProblem(site.specifier, file, 'libs/system-tests', packages))
      .map((site) => site.line);
    expect(flagged).to.deep.equal([1, 4, 5, 6, 7]);
  });
});
