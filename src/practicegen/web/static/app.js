// Wires the teacher page together: the key, students, assigning practice (sync or as a job),
// the assignment's items and the jobs table. API calls are in api.js, following a job in
// jobs.js, drawing in items.js, joblist.js and progress.js.

import { ApiError, data, listAll, pages, request, storedKey, storeKey } from "./api.js";
import { drawCatalog } from "./catalog.js";
import { followJob } from "./jobs.js";
import { renderItems, showGrading } from "./items.js";
import { renderJobs } from "./joblist.js";
import { addStudent, assignClass, createClass, loadClasses, showReport, showRoster } from "./classes.js";
import { finishJobView, startJobView, updateJobView } from "./progress.js";

const byId = (id) => document.getElementById(id);
const students = new Map(); // student_id -> student, as last loaded
let followed = 0; // which followJob call still owns the job panel

// ---- errors ----

function describe(error) {
  if (!(error instanceof ApiError)) return `Unexpected error: ${error?.message ?? error}`;
  let text = `${error.message} (${error.code}${error.status ? `, HTTP ${error.status}` : ""})`;
  const fields = error.details?.errors;
  if (Array.isArray(fields) && fields.length > 0) {
    text += ": " + fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  } else if (error.details?.known_subjects?.length) {
    text += `. Known subjects: ${error.details.known_subjects.join(", ")}`;
  }
  if (error.code === "not_authenticated") text += ". Enter an API key above.";
  return text;
}

function showError(error) {
  byId("error-text").textContent = describe(error);
  byId("error").hidden = false;
}

function clearError() {
  byId("error").hidden = true;
  byId("error-text").textContent = "";
}

// Runs one user action: clears the last error, shows this one's.
async function act(action) {
  clearError();
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

// ---- key ----

function showKeyStatus() {
  const key = storedKey();
  byId("key-status").textContent = key
    ? `Using the key ending in ${key.slice(-4)}.`
    : "No key: only works when the server runs with authentication off.";
}

// ---- students ----

function studentName(studentId) {
  const student = students.get(studentId);
  if (!student) return studentId;
  return student.display_name ?? student.external_id ?? student.student_id;
}

// Loads overlap (a key change, a new student, a finished job): only the last one started may
// draw or report its error, so a slow stale answer never overwrites a newer one.
function latestOnly(load, draw) {
  let calls = 0;
  return async (...args) => {
    const mine = ++calls;
    let result;
    try {
      result = await load(...args);
    } catch (error) {
      if (mine === calls) throw error;
      return;
    }
    if (mine === calls) draw(result);
  };
}

let studentToSelect = null; // kept until a load draws it

function drawStudents(rows) {
  const select = byId("student-select");
  const keep = studentToSelect ?? select.value;
  studentToSelect = null;
  students.clear();
  for (const student of rows) students.set(student.student_id, student);
  const options = rows.map((student) => {
    const option = document.createElement("option");
    option.value = student.student_id;
    const external = student.external_id && student.display_name ? ` (${student.external_id})` : "";
    option.textContent = studentName(student.student_id) + external;
    return option;
  });
  const placeholder = document.createElement("option");
  placeholder.value = "";
  placeholder.textContent = rows.length ? "Choose a student" : "(no students yet)";
  select.replaceChildren(placeholder, ...options);
  select.value = students.has(keep) ? keep : "";
}

const loadStudents = latestOnly(() => listAll("/api/v1/students"), drawStudents);

async function createStudent(form) {
  const body = { display_name: byId("student-name").value.trim() };
  const external = byId("student-external-id").value.trim();
  if (external) body.external_id = external;
  const student = await data("POST", "/api/v1/students", { json: body });
  form.reset();
  studentToSelect = student.student_id;
  await loadStudents();
}

// ---- catalogue: the practice form's subjects and topics ----

let drawTopics = () => {};

const loadCatalog = latestOnly(
  () => data("GET", "/api/v1/catalog"),
  (catalog) => {
    drawTopics = drawCatalog(catalog, byId("subjects"), byId("topics"));
    const subject = byId("subject");
    if (!subject.value && catalog.subjects.length) subject.value = catalog.subjects[0].name;
    drawTopics(subject.value);
  },
);

// ---- jobs ----

const loadJobs = latestOnly(
  () => listAll("/api/v1/jobs"),
  (jobs) => renderJobs(byId("jobs-body"), jobs, studentName, (jobId) => act(() => follow(jobId))),
);

async function follow(jobId) {
  const mine = ++followed;
  startJobView(jobId);
  const onUpdate = (update) => {
    if (mine === followed) updateJobView(update);
  };
  const refresh = () => loadJobs().catch(showError);
  refresh();
  const terminal = await followJob(jobId, onUpdate);
  if (mine !== followed) return;
  finishJobView(terminal);
  refresh();
  if (terminal.type === "completed") {
    // read the assignment now, not the job's copy of it made at its end: answers given since
    // show as answered, and checking one again is not refused as already answered
    await openAssignment(terminal.result.assignment_id);
  } else {
    throw new ApiError(0, `job_${terminal.type}`, `The job ${terminal.type}: ${terminal.error}`);
  }
}

// ---- practice ----

function assignBody() {
  const studentId = byId("student-select").value;
  if (!studentId) throw new ApiError(0, "no_student", "Choose or create a student first");
  const body = {
    student_id: studentId,
    subject: byId("subject").value.trim(),
    num_items: Number(byId("num-items").value),
  };
  const topic = byId("topic").value.trim();
  if (topic) body.topic = topic;
  return body;
}

async function assign(mode) {
  const body = assignBody();
  const path = mode === "sync" ? "/api/v1/practice/assign" : "/api/v1/practice/assign/async";
  const form = byId("practice-form");
  form.setAttribute("aria-busy", "true");
  let answer;
  try {
    answer = await request("POST", path, { json: body });
  } finally {
    form.removeAttribute("aria-busy");
  }
  // The sync endpoint turns slow work into a job too, answering with the async 202 body.
  if (answer.status === 202) {
    await follow(answer.body.job_id);
  } else {
    followed += 1; // a job still being followed must not overwrite this assignment
    byId("job").hidden = true;
    showAssignment(answer.body.data);
  }
}

export async function openAssignment(assignmentId) {
  showAssignment(await data("GET", `/api/v1/assignments/${encodeURIComponent(assignmentId)}`));
  byId("assignment").scrollIntoView?.();
}

function showAssignment(assignment) {
  byId("assignment").hidden = false;
  const student = studentName(assignment.student_id);
  const topic = assignment.topic ? ` · ${assignment.topic}` : "";
  byId("assignment-summary").textContent =
    `${assignment.subject}${topic} for ${student}: ${assignment.items.length} questions `
    + `(${assignment.bank_count} from the bank, ${assignment.generated_count} generated).`;
  const warnings = byId("assignment-warnings");
  warnings.replaceChildren(...assignment.warnings.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  renderItems(byId("items"), assignment, (li, position, answerText) =>
    act(() => grade(assignment.assignment_id, li, position, answerText)));
}

async function grade(assignmentId, li, position, answerText) {
  const result = await data("POST", `/api/v1/assignments/${encodeURIComponent(assignmentId)}/responses`, {
    json: { position, answer: answerText },
  });
  showGrading(li, {
    correct: result.correct,
    message: result.message,
    correctAnswer: result.correct_answer,
    solution: result.solution,
    answer: answerText,
  });
}

// ---- a student's assignments and page ----

function chosenStudent() {
  const studentId = byId("student-select").value;
  if (!studentId) throw new ApiError(0, "no_student", "Choose or create a student first");
  return studentId;
}

let assignmentPages = null; // the chosen student's assignments, read a page at a time

function assignmentEntry(summary) {
  const li = document.createElement("li");
  const topic = summary.topic ? ` · ${summary.topic}` : "";
  const open = document.createElement("button");
  open.type = "button";
  open.textContent = `${summary.subject}${topic}: ${summary.correct} of ${summary.num_items} right, `
    + `${summary.answered} answered (${new Date(summary.created_at).toLocaleString()})`;
  open.addEventListener("click", () => act(() => openAssignment(summary.assignment_id)));
  li.append(open);
  return li;
}

async function showStudentAssignments() {
  const studentId = chosenStudent();
  assignmentPages = pages(`/api/v1/students/${encodeURIComponent(studentId)}/assignments`);
  byId("student-assignments").replaceChildren();
  await showMoreAssignments();
}

async function showMoreAssignments() {
  const reader = assignmentPages;
  const summaries = await reader.next();
  if (reader !== assignmentPages) return; // another student was chosen meanwhile
  byId("student-assignments").append(...summaries.map(assignmentEntry));
  byId("student-assignments-more").hidden = reader.done;
}

async function makeStudentLink() {
  const studentId = chosenStudent();
  const minted = await data("POST", "/api/v1/tokens", { json: { student_id: studentId } });
  const link = new URL("/student", location.href);
  link.hash = new URLSearchParams({ token: minted.token, student: studentId }).toString();
  byId("student-link-anchor").href = link.href;
  byId("student-link-anchor").textContent = `practice page of ${studentName(studentId)}`;
  byId("student-link").hidden = false;
}

function practiceBody() {
  const body = { subject: byId("subject").value.trim(), num_items: Number(byId("num-items").value) };
  const topic = byId("topic").value.trim();
  if (topic) body.topic = topic;
  return body;
}

function wireClasses() {
  byId("class-select").addEventListener("change", () => act(showRoster));
  byId("class-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      await createClass(byId("class-name").value.trim());
      event.target.reset();
    });
  });
  byId("add-to-class").addEventListener("click", () => act(() => addStudent(byId("student-select").value)));
  byId("assign-class").addEventListener("click", () => act(() => assignClass(practiceBody(), studentName)));
  byId("show-report").addEventListener("click", () => act(showReport));
  byId("student-assignments-button").addEventListener("click", () => act(showStudentAssignments));
  byId("student-assignments-more").addEventListener("click", () => act(showMoreAssignments));
  byId("student-link-button").addEventListener("click", () => act(makeStudentLink));
}

// ---- wiring ----

function wire() {
  byId("error-dismiss").addEventListener("click", clearError);
  byId("api-key").value = storedKey();
  byId("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    storeKey(byId("api-key").value.trim());
    showKeyStatus();
    act(async () => {
      await loadCatalog();
      await loadStudents();
      await loadClasses();
      await loadJobs();
    });
  });
  byId("forget-key").addEventListener("click", () => {
    storeKey("");
    byId("api-key").value = "";
    showKeyStatus();
  });
  byId("refresh-students").addEventListener("click", () => act(() => loadStudents()));
  byId("refresh-jobs").addEventListener("click", () => act(loadJobs));
  byId("student-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => createStudent(event.target));
  });
  byId("practice-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => assign(event.submitter?.dataset.mode ?? "async"));
  });
  byId("subject").addEventListener("input", (event) => drawTopics(event.target.value));
  showKeyStatus();
  // nothing is asked before there is a key to ask with, so no error shows before anyone acts
  wireClasses();
  if (storedKey()) {
    act(async () => {
      await loadCatalog();
      await loadStudents();
      await loadClasses();
      await loadJobs();
    });
  }
  document.body.dataset.ready = "true";
}

wire();
