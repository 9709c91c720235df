// The student's page: sign in from the link's fragment (kept in this tab only, then removed
// from the address bar), list the student's assignments, and work through one question at a
// time. A student token never gets an answer key: the solution comes with the grading.

import { ApiError, data, pages, storedKey, storeKey } from "./api.js";
import { renderRich } from "./rich.js";
import { itemWords } from "./words.js";

const byId = (id) => document.getElementById(id);
const STUDENT = "practicegen.student";
let current = null; // {assignment, index}
let assignmentPages = null; // the student's assignments, read a page at a time

function showError(error) {
  const text = error instanceof ApiError ? `${error.message} (${error.code})` : String(error?.message ?? error);
  byId("error-text").textContent = text;
  byId("error").hidden = false;
}

async function act(action) {
  byId("error").hidden = true;
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

function signIn() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token") && fragment.get("student")) {
    storeKey(fragment.get("token"));
    sessionStorage.setItem(STUDENT, fragment.get("student"));
    history.replaceState(null, "", location.pathname); // the token leaves the address bar
  }
  return storedKey() && sessionStorage.getItem(STUDENT);
}

function assignmentLabel(summary) {
  const topic = summary.topic ? ` · ${summary.topic}` : "";
  const when = new Date(summary.created_at).toLocaleDateString();
  return `${summary.subject}${topic} (${when}): ${summary.answered} of ${summary.num_items} answered`;
}

function assignmentEntry(summary) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = assignmentLabel(summary);
  button.addEventListener("click", () => act(() => openAssignment(summary.assignment_id)));
  li.append(button);
  return li;
}

async function loadAssignments(studentId) {
  assignmentPages = pages(`/api/v1/students/${encodeURIComponent(studentId)}/assignments`);
  byId("assignments").replaceChildren();
  await loadMoreAssignments();
  byId("no-assignments").hidden = byId("assignments").children.length > 0;
  byId("assignments-section").hidden = false;
}

async function loadMoreAssignments() {
  const reader = assignmentPages;
  const summaries = await reader.next();
  if (reader !== assignmentPages) return; // the list was read again meanwhile
  byId("assignments").append(...summaries.map(assignmentEntry));
  byId("assignments-more").hidden = reader.done;
}

// Read again from the service each time: what was answered elsewhere shows as answered.
async function openAssignment(assignmentId) {
  const assignment = await data("GET", `/api/v1/assignments/${encodeURIComponent(assignmentId)}`);
  const firstOpen = assignment.items.findIndex((item) => !item.response);
  current = { assignment, index: firstOpen === -1 ? 0 : firstOpen };
  byId("practice").hidden = false;
  byId("assignments-section").hidden = true;
  const topic = assignment.topic ? ` · ${assignment.topic}` : "";
  byId("practice-where").textContent = `${assignment.subject}${topic}`;
  showQuestion();
  byId("question-heading").focus();
}

function answeredCount() {
  return current.assignment.items.filter((item) => item.response).length;
}

function showQuestion() {
  const { assignment, index } = current;
  const item = assignment.items[index];
  const total = assignment.items.length;
  byId("practice-count").textContent = `Question ${index + 1} of ${total} (${answeredCount()} answered)`;
  byId("practice-progress").max = total;
  byId("practice-progress").value = answeredCount();
  byId("question-heading").textContent = `Question ${index + 1}`;
  byId("question-heading").tabIndex = -1;
  byId("question-about").textContent = itemWords(item);
  renderRich(byId("question-stem"), item.stem);
  byId("hints").replaceChildren();
  byId("show-hint").hidden = item.hints.length === 0;
  byId("show-hint").disabled = false;
  byId("feedback").replaceChildren();
  byId("solution").hidden = true;
  buildAnswerForm(item);
  if (item.response) showGrading(item, item.response, item.solution);
  byId("previous").disabled = index === 0;
  byId("next").disabled = index === total - 1;
  byId("practice-done").textContent = answeredCount() === total ? doneText() : "";
}

function doneText() {
  const right = current.assignment.items.filter((item) => item.response?.correct).length;
  return `All done: ${right} of ${current.assignment.items.length} right.`;
}

function buildAnswerForm(item) {
  const form = byId("answer-form");
  form.replaceChildren();
  if (item.choices.length > 0) {
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = "Choose one";
    fieldset.append(legend);
    for (const choice of item.choices) {
      const row = document.createElement("div");
      row.className = "choice";
      const input = Object.assign(document.createElement("input"), {
        type: "radio", name: "choice", id: `choice-${choice.id}`, value: choice.id, required: true,
      });
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.append(`${choice.id}. `);
      renderRich(label, choice.text);
      row.append(input, label);
      fieldset.append(row);
    }
    form.append(fieldset);
  } else {
    const label = Object.assign(document.createElement("label"), { htmlFor: "answer", textContent: "Your answer" });
    const input = Object.assign(document.createElement("input"), {
      id: "answer", name: "answer", maxLength: 2000, required: true, autocomplete: "off", spellcheck: false,
    });
    form.append(label, input);
  }
  const check = Object.assign(document.createElement("button"), { type: "submit", textContent: "Check answer" });
  form.append(check);
}

function showHint() {
  const item = current.assignment.items[current.index];
  const shown = byId("hints").children.length;
  if (shown >= item.hints.length) return;
  const li = document.createElement("li");
  renderRich(li, item.hints[shown]);
  byId("hints").append(li);
  byId("show-hint").disabled = shown + 1 >= item.hints.length;
}

function showGrading(item, response, solution) {
  const feedback = byId("feedback");
  feedback.dataset.correct = String(response.correct);
  const verdict = document.createElement("strong");
  verdict.textContent = response.correct ? "Correct." : "Not quite.";
  const said = document.createElement("span");
  const message = response.message && response.message !== verdict.textContent ? ` ${response.message}` : "";
  said.textContent = ` You answered ${response.answer}.${message}`;
  feedback.replaceChildren(verdict, said);
  for (const control of byId("answer-form").elements) control.disabled = true;
  if (solution) {
    renderRich(byId("solution-text"), solution);
    byId("solution").hidden = false;
  }
}

async function check(event) {
  event.preventDefault();
  const { assignment, index } = current;
  const item = assignment.items[index];
  const form = byId("answer-form");
  const answer = form.querySelector("input[type=radio]:checked")?.value ?? form.elements.answer?.value.trim();
  if (!answer) return;
  const path = `/api/v1/assignments/${encodeURIComponent(assignment.assignment_id)}/responses`;
  const graded = await data("POST", path, { json: { position: item.position, answer } });
  item.response = { answer, correct: graded.correct, feedback_code: graded.feedback_code };
  item.solution = graded.solution;
  showGrading(item, { ...item.response, message: graded.message }, graded.solution);
  byId("practice-count").textContent = `Question ${index + 1} of ${assignment.items.length} (${answeredCount()} answered)`;
  byId("practice-progress").value = answeredCount();
  byId("practice-done").textContent = answeredCount() === assignment.items.length ? doneText() : "";
}

function move(step) {
  current.index = Math.min(Math.max(current.index + step, 0), current.assignment.items.length - 1);
  showQuestion();
  byId("question-heading").focus();
}

function wire() {
  byId("error-dismiss").addEventListener("click", () => { byId("error").hidden = true; });
  byId("show-hint").addEventListener("click", showHint);
  byId("answer-form").addEventListener("submit", (event) => act(() => check(event)));
  byId("previous").addEventListener("click", () => move(-1));
  byId("next").addEventListener("click", () => move(1));
  byId("assignments-more").addEventListener("click", () => act(loadMoreAssignments));
  const studentId = signIn();
  byId("back").addEventListener("click", () => act(async () => {
    byId("practice").hidden = true;
    await loadAssignments(studentId);
  }));
  if (!studentId) {
    byId("no-link").hidden = false;
  } else {
    act(() => loadAssignments(studentId));
  }
  document.body.dataset.ready = "true";
}

wire();
