// Runs the async guide's "Option 2: WebSocket (Real-time)" code in Node.
//
// The lines between the BEGIN and END markers are the guide's code block, verbatim. The test
// (test_guide_realtime.py) copies this file and replaces only the guide's two hosts (the
// https:// one for fetch, the wss:// one for the WebSocket) and its 'student-uuid'
// placeholder, then runs the copy with `node` (with --experimental-websocket before Node 22,
// whose global WebSocket is the browser's API the guide is written for).
//
// The guide's code only logs what it receives. To observe it without touching the guide's
// lines, the code before the markers wraps the global fetch (to log the 202 it receives) and the
// global WebSocket: every socket the guide opens also records each message it gets and how it
// closed. The code after the markers waits for the socket to close and prints one JSON line:
//   GUIDE_OUTCOME {"url": ..., "messages": [...], "close": {...}, "accepted": {...}}
// Node exits 0 only when the guide's socket received a `completed` message and then closed; a
// `failed` message, a socket that closed without a terminal message, or no close within
// GUIDE_TIMEOUT_MS (default 30 s) exits non-zero.

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

const RealWebSocket = globalThis.WebSocket;
const sockets = [];
let settle;
const closed = new Promise((resolve) => {
  settle = resolve;
});

globalThis.WebSocket = class extends RealWebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    const record = { url: String(url), messages: [], close: null, errors: [] };
    sockets.push(record);
    this.addEventListener('message', (event) => {
      record.messages.push(JSON.parse(event.data));
    });
    this.addEventListener('error', (event) => {
      record.errors.push(String(event.message ?? event.type));
    });
    this.addEventListener('close', (event) => {
      record.close = { code: event.code, reason: event.reason, was_clean: event.wasClean };
      settle(record);
    });
  }
};

// ---- BEGIN guide: Option 2: WebSocket (Real-time) ----
// 1. Start async job
const response = await fetch('https://api.example.com/api/v1/practice/assign/async', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    student_id: 'student-uuid',
    subject: 'Algebra',
    num_items: 5
  })
});

const { job_id, websocket_url } = await response.json();

// 2. Connect via WebSocket
const ws = new WebSocket(`wss://api.example.com/api/v1/jobs/${job_id}/ws`);

ws.onmessage = (event) => {
  const update = JSON.parse(event.data);
  
  switch (update.type) {
    case 'status':
      console.log(`Progress: ${update.progress_percent}% - ${update.progress_message}`);
      break;
    case 'completed':
      // Use update.result
      console.log('Practice assignment ready!', update.result);
      ws.close();
      break;
    case 'failed':
      console.error('Job failed:', update.error);
      ws.close();
      break;
  }
};
// ---- END guide ----

const limitMs = Number(process.env.GUIDE_TIMEOUT_MS ?? 30000);
let timer;
const timedOut = new Promise((resolve) => {
  timer = setTimeout(() => resolve(null), limitMs);
});
const record = await Promise.race([closed, timedOut]);
clearTimeout(timer);
if (record === null) {
  console.log(`GUIDE_OUTCOME ${JSON.stringify({ status: 'timeout', sockets, accepted })}`);
  process.exit(3);
}
const last = record.messages.at(-1);
const status = last?.type ?? 'none';
console.log(
  `GUIDE_OUTCOME ${JSON.stringify({ status, ...record, sockets: sockets.length, accepted })}`,
);
if (status !== 'completed') {
  process.exit(1);
}
// Completed: the guide closed its socket, so nothing is left and Node exits 0 on its own.
