// The job panel: the followed job's id, status, transport, progress bar and the log of its
// progress messages (the latest one is announced through an aria-live region).

const byId = (id) => document.getElementById(id);

function setPercent(percent) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  byId("job-progress").value = value;
  byId("progress-percent").textContent = `${value}%`;
}

function say(message) {
  if (!message) return;
  byId("progress-message").textContent = message;
  const log = byId("progress-log");
  if (log.lastElementChild?.textContent === message) return;
  const entry = document.createElement("li");
  entry.textContent = message;
  log.append(entry);
}

export function startJobView(jobId) {
  byId("job").hidden = false;
  byId("job-id").textContent = jobId;
  byId("job-status").textContent = "pending";
  byId("job-transport").textContent = "-";
  byId("progress-message").textContent = "";
  byId("progress-log").replaceChildren();
  setPercent(0);
}

export function updateJobView({ status, percent, message, transport }) {
  byId("job-status").textContent = status;
  byId("job-transport").textContent = transport;
  setPercent(percent);
  say(message);
}

export function finishJobView(terminal) {
  byId("job-status").textContent = terminal.type;
  byId("job-transport").textContent = terminal.transport;
  if (terminal.type === "completed") {
    setPercent(100);
    say("Completed.");
  } else {
    say(terminal.error);
  }
}
