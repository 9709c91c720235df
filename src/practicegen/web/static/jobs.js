// Follows one job to its end: the WebSocket first, long-polling GET /api/v1/jobs/{id}?wait=20
// when the socket cannot open or closes before the job's terminal message.
//
// Every update reaches `onUpdate` as {status, percent, message, transport}; the returned
// promise settles with the terminal message ({type: "completed", result} or
// {type: "failed" | "cancelled", error}).

import { request, storedKey } from "./api.js";

const OPEN_TIMEOUT_MS = 5000;
const WAIT_S = 20;

function socketUrl(jobId) {
  const url = new URL(`/api/v1/jobs/${encodeURIComponent(jobId)}/ws`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function terminalOf(job) {
  if (job.status === "completed") return { type: "completed", result: job.result };
  if (job.status === "failed" || job.status === "cancelled") {
    return { type: job.status, error: job.error ?? job.status };
  }
  return null;
}

// Resolves with the terminal message, or with null when the socket gave out first.
function viaWebSocket(jobId, onUpdate) {
  return new Promise((resolve) => {
    let socket;
    const key = storedKey();
    try {
      // Browsers cannot send headers on a WebSocket: the server reads `bearer, <key>`.
      socket = key ? new WebSocket(socketUrl(jobId), ["bearer", key]) : new WebSocket(socketUrl(jobId));
    } catch {
      resolve(null); // a key that is not a valid subprotocol token: poll with the header
      return;
    }
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      clearTimeout(openTimer);
      resolve(value);
      if (socket.readyState <= WebSocket.OPEN) socket.close();
    };
    const openTimer = setTimeout(() => finish(null), OPEN_TIMEOUT_MS);
    socket.addEventListener("open", () => clearTimeout(openTimer));
    socket.addEventListener("message", (event) => {
      let update;
      try {
        update = JSON.parse(event.data);
      } catch {
        return;
      }
      if (update.type === "status") {
        onUpdate({
          status: update.status,
          percent: update.progress_percent,
          message: update.progress_message,
          transport: "WebSocket",
        });
      } else {
        finish(update);
      }
    });
    socket.addEventListener("close", () => finish(null));
    socket.addEventListener("error", () => finish(null));
  });
}

async function viaPolling(jobId, onUpdate) {
  let etag = null;
  for (;;) {
    // The first read answers at once; later ones wait for a change from what we last saw.
    const path = `/api/v1/jobs/${encodeURIComponent(jobId)}` + (etag ? `?wait=${WAIT_S}` : "");
    const extraHeaders = etag ? { "If-None-Match": etag } : {};
    const { status, body, headers } = await request("GET", path, { extraHeaders });
    etag = headers.get("ETag") ?? etag;
    if (status === 304) continue;
    const job = body.data;
    const terminal = terminalOf(job);
    if (terminal) return terminal;
    onUpdate({
      status: job.status,
      percent: job.progress_percent,
      message: job.progress_message,
      transport: "polling",
    });
  }
}

export async function followJob(jobId, onUpdate) {
  const terminal = await viaWebSocket(jobId, onUpdate);
  if (terminal) return { ...terminal, transport: "WebSocket" };
  return { ...(await viaPolling(jobId, onUpdate)), transport: "polling" };
}
