// Runs the async guide's "Option 1: Async Endpoint with Polling" code in Node 20.
//
// The lines between the BEGIN and END markers are the guide's code block, verbatim. The test
// (test_guide_javascript.py) copies this file and replaces only the guide's host and its
// 'student-uuid' placeholder, then runs the copy with `node`.
//
// The guide's checkStatus re-polls with setTimeout and nothing awaits those later calls, so the
// value it returns on completion is lost. To observe it without touching the guide's lines,
// the code before the markers wraps the global fetch: every response the guide receives is
// also parsed from a clone and logged, and the first job status that is terminal settles
// `finished`. The code after the markers waits for that and prints one JSON line:
//   GUIDE_OUTCOME {"status": ..., "result": ..., "exchanges": [...]}
// Node exits 0 only when the job completed; a failed job (the guide's own `throw`), a cancelled
// one, or no terminal status within GUIDE_TIMEOUT_MS (default 30 s) exits non-zero.

const realFetch = globalThis.fetch;
const exchanges = [];
let settle;
const finished = new Promise((resolve) => {
  settle = resolve;
});

// When the guide's code throws (a failed job, or an answer without `data`), show what it got.
process.on('exit', (code) => {
  if (code !== 0) console.error(`GUIDE_EXCHANGES ${JSON.stringify(exchanges)}`);
});

globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const exchange = {
    method: init?.method ?? 'GET',
    url: String(input),
    status: response.status,
    cache_control: response.headers.get('cache-control'),
    body: null,
  };
  exchanges.push(exchange);
  try {
    exchange.body = await response.clone().json();
  } catch (error) {
    exchange.body = { unparsable: String(error) };
  }
  const state = exchange.body?.data?.status;
  if (['completed', 'failed', 'cancelled'].includes(state)) {
    settle(exchange.body);
  }
  return response;
};

// ---- BEGIN guide: Option 1: Async Endpoint with Polling ----
// 1. Start async job
const response = await fetch('https://api.example.com/api/v1/practice/assign/async', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    student_id: 'student-uuid',
    subject: 'Algebra',
    num_items: 5,
    topic: 'Linear Equations'
  })
});

const { job_id, status_url } = await response.json();

// 2. Poll for status
const checkStatus = async () => {
  const statusResponse = await fetch(`https://api.example.com/api/v1/jobs/${job_id}`);
  const status = await statusResponse.json();
  
  if (status.data.status === 'completed') {
    // Use status.data.result
    return status.data.result;
  } else if (status.data.status === 'failed') {
    throw new Error(status.data.error);
  } else {
    // Still processing, poll again
    setTimeout(checkStatus, 2000);
  }
};

await checkStatus();
// ---- END guide ----

const limitMs = Number(process.env.GUIDE_TIMEOUT_MS ?? 30000);
let timer;
const timedOut = new Promise((resolve) => {
  timer = setTimeout(() => resolve(null), limitMs);
});
const outcome = await Promise.race([finished, timedOut]);
clearTimeout(timer);
if (outcome === null) {
  console.log(`GUIDE_OUTCOME ${JSON.stringify({ status: 'timeout', exchanges })}`);
  process.exit(3);
}
const { status, result, error } = outcome.data;
console.log(`GUIDE_OUTCOME ${JSON.stringify({ status, result, error, exchanges })}`);
if (status !== 'completed') {
  // A failed job also ends the guide's loop with its throw; a cancelled one (a status the
  // guide does not list) would keep it polling forever, so stop here either way.
  process.exit(1);
}
// Completed: the guide schedules no further poll, so Node exits 0 on its own.
