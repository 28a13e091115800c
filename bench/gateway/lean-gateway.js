'use strict';
// Reference: the least a correct gateway must do, on plain node:http and nothing else — the same
// signature check, Redis dedup and a confirmed publish to a quorum queue. No secret lookup, no
// normalization, no metrics, no logging.
//
// LEAN_DEDUP chooses the dedup:
// - `two-step` (the reference the target is measured against): what issue 5 asks of dedup — a claim
//   that a failed or unroutable publish releases, marked done only after the broker's confirm — and a
//   `mandatory` publish, so an event no queue took is not acknowledged. Two Redis commands a delivery.
// - `one-step`: SET NX for a day before publishing, never released, no `mandatory`. Cheaper, but a
//   delivery whose publish fails stays "seen" and Bitbucket's retry is dropped as a duplicate: kept
//   only to show what the safety costs.
//
// LEAN_NORMALIZE=1 adds the one piece of work docs/architecture.md §6 asks of every gateway and the reference
// leaves out: parse the body, normalize() it into the canonical event (which checks the payload and the
// event) and publish the event's JSON instead of the raw body. Nothing else of the gateway's: no
// secret lookup, no AMQP headers, no metrics. It shows what the normalization costs against the
// reference on this machine.
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const amqp = require('amqplib');
const Redis = require('ioredis');
const { verifySignature } = require('@stacklink/bitbucket/signature');
const { normalize } = require('@stacklink/events');

const { PORT, RABBITMQ_URL, REDIS_URL, SECRET, EXCHANGE, KEY_PREFIX, LEAN_DEDUP = 'two-step' } = process.env;
const TWO_STEP = LEAN_DEDUP === 'two-step';
const NORMALIZE = process.env.LEAN_NORMALIZE === '1';
const DAY = 86400;

async function main() {
  // Same client setting as the gateway had: commands of one tick share a socket write.
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const connection = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createConfirmChannel();
  const returned = new Set();
  channel.on('return', (message) => returned.add(message.properties.messageId));

  const answer = (res, status, body) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200).end('ok');
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (!verifySignature(body, req.headers['x-hub-signature'], [SECRET]).valid) {
        res.writeHead(401).end();
        return;
      }
      let id;
      let content = body;
      let routingKey = 'bitbucket-dc.pull_request.opened';
      if (!NORMALIZE) {
        id = randomUUID();
      } else {
        try {
          const out = normalize({
            eventKey: String(req.headers['x-event-key']),
            deliveryId: String(req.headers['x-request-id']),
            integrationId: 'bench',
            receivedAt: new Date(),
            body: JSON.parse(body.toString('utf8')),
          });
          if (out.kind !== 'event') {
            answer(res, 200, { ignored: true });
            return;
          }
          id = out.event.id;
          routingKey = `bitbucket-dc.${out.event.type}`;
          content = Buffer.from(JSON.stringify(out.event));
        } catch {
          res.writeHead(400).end();
          return;
        }
      }
      const key = `${KEY_PREFIX}lean:${String(req.headers['x-request-id'])}`;
      const claimed = TWO_STEP
        ? await redis.set(key, 'pending', 'EX', 60, 'NX')
        : await redis.set(key, '1', 'EX', DAY, 'NX');
      if (claimed !== 'OK') {
        const done = !TWO_STEP || (await redis.get(key)) === 'done';
        answer(res, done ? 200 : 503, { duplicate: done });
        return;
      }
      channel.publish(
        EXCHANGE,
        routingKey,
        content,
        { persistent: true, messageId: id, mandatory: TWO_STEP },
        async (err) => {
          const unroutable = returned.delete(id);
          if (err || unroutable) {
            if (TWO_STEP) await redis.del(key);
            res.writeHead(503).end();
            return;
          }
          if (TWO_STEP) await redis.set(key, 'done', 'EX', DAY);
          answer(res, 202, { eventId: id });
        },
      );
    });
  });
  server.keepAliveTimeout = 65000;
  server.listen(Number(PORT), '127.0.0.1');
  process.on('SIGTERM', () =>
    server.close(async () => {
      await channel.close();
      await connection.close();
      redis.disconnect();
      process.exit(0);
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
