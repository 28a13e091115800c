'use strict';
// Reference: the least a correct gateway must do, on plain node:http and nothing else — the same
// signature check, Redis dedup and a confirmed publish to a quorum queue. No secret lookup, no
// normalization, no metrics, no logging.
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const amqp = require('amqplib');
const Redis = require('ioredis');
const { verifySignature } = require('@stacklink/bitbucket/signature');

const { PORT, RABBITMQ_URL, REDIS_URL, SECRET, EXCHANGE, KEY_PREFIX } = process.env;

async function main() {
  // Same client setting as the gateway: commands of one tick share a socket write.
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const connection = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createConfirmChannel();
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
      const deliveryId = String(req.headers['x-request-id']);
      const fresh = await redis.set(`${KEY_PREFIX}lean:${deliveryId}`, '1', 'EX', 86400, 'NX');
      if (fresh !== 'OK') {
        res.writeHead(200).end('{"duplicate":true}');
        return;
      }
      const id = randomUUID();
      channel.publish(
        EXCHANGE,
        'bitbucket-dc.pull_request.opened',
        body,
        { persistent: true, messageId: id },
        (err) => {
          if (err) res.writeHead(503).end();
          else
            res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ eventId: id }));
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
