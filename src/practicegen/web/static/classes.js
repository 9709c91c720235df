// The teacher's classes: make one, fill its roster, assign it at once with each student's
// progress shown live (the batch's WebSocket, or polling the batch when it cannot open), and
// the class report as a heat map of students by skills.

import { data, listAll, request, storedKey } from "./api.js";
import { skillWords } from "./words.js";

const byId = (id) => document.getElementById(id);
const POLL_MS = 1000;

function cell(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export async function loadClasses(keep) {
  const classes = await listAll("/api/v1/classes");
  const select = byId("class-select");
  const chosen = keep ?? select.value;
  const placeholder = cell("option", classes.length ? "Choose a class" : "(no classes yet)", { value: "" });
  select.replaceChildren(placeholder, ...classes.map((c) =>
    cell("option", `${c.name} (${c.student_count} students)`, { value: c.class_id })));
  select.value = classes.some((c) => c.class_id === chosen) ? chosen : "";
  await showRoster();
}

export async function createClass(name) {
  const made = await data("POST", "/api/v1/classes", { json: { name } });
  await loadClasses(made.class_id);
}

function chosenClass() {
  const classId = byId("class-select").value;
  if (!classId) throw new Error("Choose or create a class first.");
  return classId;
}

export async function showRoster() {
  const classId = byId("class-select").value;
  byId("class-panel").hidden = !classId;
  if (!classId) return;
  const page = await data("GET", `/api/v1/classes/${encodeURIComponent(classId)}/students`);
  byId("roster").replaceChildren(...page.items.map((student) => {
    const li = cell("li", student.display_name ?? student.external_id ?? student.student_id);
    const remove = cell("button", "Remove", { type: "button" });
    remove.setAttribute("aria-label", `Remove ${li.textContent} from the class`);
    remove.addEventListener("click", async () => {
      await data("DELETE", `/api/v1/classes/${encodeURIComponent(classId)}/students/${student.student_id}`);
      await loadClasses(classId);
    });
    li.append(" ", remove);
    return li;
  }));
}

export async function addStudent(studentId) {
  if (!studentId) throw new Error("Choose a student in the Student section first.");
  const classId = chosenClass();
  await data("POST", `/api/v1/classes/${encodeURIComponent(classId)}/students`, { json: { student_ids: [studentId] } });
  await loadClasses(classId);
}

function drawBatch(batch, studentName) {
  byId("batch-progress").value = batch.progress_percent;
  byId("batch-percent").textContent = `${batch.progress_percent}%`;
  const done = batch.jobs.filter((job) => ["completed", "failed", "cancelled"].includes(job.status)).length;
  byId("batch-status").textContent = `${done} of ${batch.jobs.length} students ready`;
  byId("batch-jobs").replaceChildren(...batch.jobs.map((job) =>
    cell("li", `${studentName(job.student_id)}: ${job.status} (${job.progress_percent}%)`, {
      "data-status": job.status,
    })));
}

function batchSocket(batchId) {
  const url = new URL(`/api/v1/batches/${encodeURIComponent(batchId)}/ws`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const key = storedKey();
  return key ? new WebSocket(url.href, ["bearer", key]) : new WebSocket(url.href);
}

// Follows the batch until it ends; each message carries a student's job or the batch's end.
function followBatch(first, studentName) {
  const batch = { ...first };
  const jobs = new Map(batch.jobs.map((job) => [job.job_id, job]));
  const redraw = () => drawBatch({ ...batch, jobs: [...jobs.values()] }, studentName);
  return new Promise((resolve) => {
    let socket;
    try {
      socket = batchSocket(batch.batch_id);
    } catch {
      resolve(pollBatch(batch.batch_id, studentName));
      return;
    }
    let ended = false;
    socket.addEventListener("message", (event) => {
      const update = JSON.parse(event.data);
      if (update.type === "batch") {
        Object.assign(batch, update);
        for (const job of update.jobs) jobs.set(job.job_id, job);
      } else if (update.type === "job") {
        jobs.set(update.job_id, { ...jobs.get(update.job_id), ...update });
        batch.progress_percent = Math.round(
          [...jobs.values()].reduce((sum, job) => sum + (job.status === "completed" ? 100 : job.progress_percent), 0)
          / jobs.size);
      } else if (update.type === "status") {
        batch.progress_percent = update.progress_percent;
      } else {
        ended = true;
        batch.progress_percent = 100;
      }
      redraw();
      if (ended) resolve(update);
    });
    socket.addEventListener("close", () => {
      if (!ended) resolve(pollBatch(batch.batch_id, studentName));
    });
  });
}

async function pollBatch(batchId, studentName) {
  for (;;) {
    const batch = await data("GET", `/api/v1/batches/${encodeURIComponent(batchId)}`);
    drawBatch(batch, studentName);
    if (["completed", "failed", "cancelled"].includes(batch.status)) return { type: batch.status };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function assignClass(body, studentName) {
  const classId = chosenClass();
  const path = `/api/v1/classes/${encodeURIComponent(classId)}/assign/async`;
  const { body: accepted } = await request("POST", path, { json: body });
  byId("batch").hidden = false;
  drawBatch({ ...accepted, progress_percent: 0 }, studentName);
  const end = await followBatch({ ...accepted, progress_percent: 0 }, studentName);
  byId("batch-status").textContent += end.type === "completed" ? ". Done." : `. The batch ${end.type}.`;
  await showReport();
}

function levelOf(standing) {
  if (standing.mastered) return "mastered";
  if (standing.typical_success >= 0.6) return "on-track";
  return "needs-help";
}

export async function showReport() {
  const classId = chosenClass();
  const report = await data("GET", `/api/v1/classes/${encodeURIComponent(classId)}/report`);
  const table = byId("report");
  const head = cell("tr", "");
  head.append(cell("th", "Student", { scope: "col" }), ...report.skills.map((skill) =>
    cell("th", skillWords(skill), { scope: "col" })));
  const rows = report.students.map((row) => {
    const tr = document.createElement("tr");
    tr.append(cell("th", row.display_name ?? row.external_id ?? row.student_id, { scope: "row" }));
    for (const skill of report.skills) {
      const standing = row.skills[skill];
      if (!standing) {
        tr.append(cell("td", "not yet", { class: "heat none" }));
        continue;
      }
      const percent = Math.round(standing.typical_success * 100);
      const text = `${percent}%${standing.mastered ? " mastered" : ""} (${standing.answered} answered)`;
      tr.append(cell("td", text, { class: `heat ${levelOf(standing)}` }));
    }
    return tr;
  });
  byId("report-head").replaceChildren(head);
  byId("report-body").replaceChildren(...rows);
  byId("report-rule").textContent =
    `Mastered: at least ${Math.round(report.rule.success * 100)}% likely on a typical question, `
    + `after at least ${report.rule.min_answers} answers.`;
  table.hidden = false;
}
