'use strict';
// The reference of the trigger benchmark: a plain amqplib consumer that acks every message of a queue,
// with the same prefetch as the trigger worker. GET / answers readiness, GET /count how many it acked.
const http = require('node:http');
const amqp = require('amqplib');

async function main() {
  const connection = await amqp.connect(process.env.RABBITMQ_URL);
  const channel = await connection.createChannel();
  await channel.prefetch(Number(process.env.PREFETCH ?? 20));
  let acked = 0;
  await channel.consume(process.env.QUEUE, (msg) => {
    if (msg === null) return;
    JSON.parse(msg.content.toString('utf8'));
    channel.ack(msg);
    acked += 1;
  });
  http
    .createServer((req, res) => res.end(req.url === '/count' ? String(acked) : 'ok'))
    .listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => connection.close().finally(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
