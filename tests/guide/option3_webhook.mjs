// Runs the async guide's "Option 3: Webhook Callback" code in Node, and receives its webhook.
//
// The lines between the BEGIN and END markers are the guide's code block, verbatim. The test
// (test_guide_realtime.py) copies this file and replaces only the guide's API host, its
// 'student-uuid' placeholder and the host of its webhook_url (https://your-app.com becomes
// this script's own receiver on loopback; the path /webhooks/practice-complete stays), then
// runs the copy with `node`.
//
// The guide shows what "your webhook endpoint will receive" but no receiver, so the code
// before the markers is that endpoint: a node:http server on GUIDE_RECEIVER_PORT that records
// each POST and checks its Standard Webhooks signature with GUIDE_WEBHOOK_SECRET (HMAC-SHA256
// of "id.timestamp.body" under the base64 key after `whsec_`), as a receiver should. It also
// wraps the global fetch to log the 202 the guide receives. The code after the markers waits
// for the first delivery and prints one JSON line:
//   GUIDE_OUTCOME {"job_id": ..., "accepted": {...}, "delivery": {...}}
// Node exits 0 only when a delivery for the guide's job arrived, with a valid signature, saying
// the assignment completed; anything else, or nothing within GUIDE_TIMEOUT_MS (default 30 s),
// exits non-zero.

import crypto from 'node:crypto';
import http from 'node:http';

const realFetch = globalThis.fetch;
let accepted = null;
globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  try {
    accepted = { status: response.status, body: await response.clone().json() };
  } catch (error) {
    accepted = { status: response.status, body: { unparsable: String(error) } };
  }
  return response;
};

function signedBySecret(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const offered = (headers['webhook-signature'] ?? '').split(' ');
  const key = Buffer.from(process.env.GUIDE_WEBHOOK_SECRET.replace(/^whsec_/, ''), 'base64');
  const expected = Buffer.from(
    crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64'),
  );
  const recent = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return (
    recent &&
    offered.some((entry) => {
      const [version, signature] = entry.split(',');
      const given = Buffer.from(signature ?? '');
      return (
        version === 'v1' &&
        given.length === expected.length &&
        crypto.timingSafeEqual(given, expected)
      );
    })
  );
}

const deliveries = [];
let settle;
const delivered = new Promise((resolve) => {
  settle = resolve;
});
const receiver = http.createServer((request, reply) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const delivery = {
      method: request.method,
      path: request.url,
      headers: request.headers,
      raw_body: raw,
      signature_valid: signedBySecret(request.headers, raw),
    };
    deliveries.push(delivery);
    reply.writeHead(204).end();
    settle(delivery);
  });
});
await new Promise((resolve, reject) => {
  receiver.once('error', reject);
  receiver.listen(Number(process.env.GUIDE_RECEIVER_PORT), '127.0.0.1', resolve);
});

// ---- BEGIN guide: Option 3: Webhook Callback ----
// Start async job with webhook URL
const response = await fetch('https://api.example.com/api/v1/practice/assign/async', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    student_id: 'student-uuid',
    subject: 'Algebra',
    num_items: 5,
    webhook_url: 'https://your-app.com/webhooks/practice-complete'
  })
});

const { job_id } = await response.json();

// Your webhook endpoint will receive:
// POST https://your-app.com/webhooks/practice-complete
// {
//   "event": "practice.assignment.completed",
//   "timestamp": "2025-12-01T...",
//   "data": {
//     "job_id": "...",
//     "student_id": "...",
//     "result": { ... }
//   }
// }
// ---- END guide ----

const limitMs = Number(process.env.GUIDE_TIMEOUT_MS ?? 30000);
let timer;
const timedOut = new Promise((resolve) => {
  timer = setTimeout(() => resolve(null), limitMs);
});
const delivery = await Promise.race([delivered, timedOut]);
clearTimeout(timer);
receiver.close();
receiver.closeAllConnections();
if (delivery === null) {
  console.log(`GUIDE_OUTCOME ${JSON.stringify({ status: 'timeout', job_id, accepted })}`);
  process.exit(3);
}
const body = JSON.parse(delivery.raw_body);
const ok =
  delivery.signature_valid &&
  body.event === 'practice.assignment.completed' &&
  body.data?.job_id === job_id;
const status = ok ? 'completed' : 'unexpected';
console.log(
  `GUIDE_OUTCOME ${JSON.stringify({ status, job_id, accepted, delivery, deliveries: deliveries.length })}`,
);
if (!ok) {
  process.exit(1);
}
// Delivered: the receiver is closed, so nothing is left and Node exits 0 on its own.
