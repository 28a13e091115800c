'use strict';
// Builds build B for an A/B run of decision 007's two amqplib fast paths: a worktree of a commit of
// this repository in which libs/bus publishes with amqplib's own `publish` and leaves the socket's
// writes alone, as it would if the two were dropped. Everything else is the commit as it is.
//
//   node bench/gateway/build-without-fast-paths.js [dir] [commit] [off]
//     dir     where the worktree goes (default: $TMPDIR/stacklink-without-fast-paths); must not exist
//     commit  what it checks out (default: HEAD)
//     off     which path to turn off: both (default), direct-publish or coalesce-writes
//
// It prints the BENCH_GATEWAY_B=… line for `make bench`. Remove the worktree afterwards with
// `git worktree remove --force <dir>`.
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const dir = path.resolve(process.argv[2] ?? path.join(tmpdir(), 'stacklink-without-fast-paths'));
const commit = process.argv[3] ?? 'HEAD';
const off = process.argv[4] ?? 'both';
if (!['both', 'direct-publish', 'coalesce-writes'].includes(off)) throw new Error(`unknown path: ${off}`);

/** Replaces exactly one occurrence of `from`, or stops: a silent miss would measure the wrong build. */
function replaceOnce(text, from, to, what) {
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`${what}: expected one occurrence in create-bus.ts, found ${count}`);
  return text.replace(from, () => to);
}

function run(cmd, args, cwd) {
  process.stdout.write(`$ ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
}

if (existsSync(dir)) throw new Error(`${dir} exists; pass another directory or remove it first`);
run('git', ['worktree', 'add', '--detach', dir, commit], ROOT);

const file = path.join(dir, 'libs/bus/src/create-bus.ts');
let source = readFileSync(file, 'utf8');
if (off !== 'direct-publish') {
  // Write coalescing off: the connection's frames go to the socket as amqplib writes them.
  source = replaceOnce(
    source,
    "import { coalesceFrameWrites } from './coalesce-writes';\n",
    '',
    'the import',
  );
  source = replaceOnce(
    source,
    '    // The publishes of one event-loop round leave in one socket write (see coalesce-writes.ts).\n' +
      '    coalesceFrameWrites(connection);\n',
    '',
    'the call',
  );
  if (source.includes('coalesceFrameWrites')) throw new Error('create-bus.ts still coalesces writes');
}
if (off !== 'coalesce-writes') {
  // Direct publish off: amqplib's own publish, persistent and mandatory (direct-publish.ts's fallback).
  source = replaceOnce(
    source,
    "import { type MessageProperties, messagePublisher, type PublishMessage } from './direct-publish';",
    "import { type MessageProperties, type PublishMessage } from './direct-publish';",
    'the direct-publish import',
  );
  source = replaceOnce(
    source,
    'publish: messagePublisher(channel).publish,',
    'publish: (exchange, routingKey, content, properties, confirmed) =>\n' +
      '        channel.publish(exchange, routingKey, content, { ...properties, persistent: true, mandatory: true }, confirmed),',
    'the publisher',
  );
  if (source.includes('messagePublisher')) throw new Error('create-bus.ts still publishes directly');
}
writeFileSync(file, source);

run('npm', ['ci', '--no-audit', '--no-fund'], dir);
run('npx', ['tsc', '-b'], dir);
const main = path.join(dir, 'services/webhook-gateway/dist/src/roles/gateway.js');
if (!existsSync(main)) throw new Error(`${main} was not built`);
process.stdout.write(
  `\nbuild B of ${commit}, ${off === 'both' ? 'both fast paths' : off} off:\nBENCH_GATEWAY_B=${main}\n`,
);
