// Shows an assignment's items and lets the teacher answer them and see the grading.
//
// Stems, hints and solutions are Markdown with $LaTeX$, rendered by rich.js (math by KaTeX),
// which builds nodes: nothing from the API is ever parsed as HTML.

import { renderRich } from "./rich.js";
import { itemWords } from "./words.js";

function element(tag, { className, text, attrs } = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  return node;
}

function meta(item) {
  const made = item.source === "llm" || item.source === "procedural" ? ", written for this student" : "";
  return `${itemWords(item)}${made}`;
}

function rich(tag, className, text) {
  return renderRich(element(tag, { className }), text);
}

function choicesFieldset(item) {
  const fieldset = element("fieldset", { className: "choices" });
  fieldset.append(element("legend", { text: `Choices for question ${item.position}` }));
  for (const choice of item.choices) {
    const id = `choice-${item.position}-${choice.id}`;
    const input = element("input", {
      attrs: { type: "radio", id, name: `choice-${item.position}`, value: choice.id, required: "" },
    });
    const label = element("label", { text: `${choice.id}. `, attrs: { for: id } });
    label.append(rich("span", "choice-text", choice.text));
    const row = element("div", { className: "choice" });
    row.append(input, label);
    fieldset.append(row);
  }
  return fieldset;
}

function disclosure(summary, className, lines) {
  const details = element("details", { className });
  details.append(element("summary", { text: summary }));
  for (const line of lines) details.append(rich("div", "math", line));
  return details;
}

// For callers that may see the key (server and admin keys; a student token gets null).
function answerKey(item) {
  const details = disclosure("Answer key", "answer-key", []);
  const answer = element("p", { text: "Answer: " });
  answer.append(element("code", { className: "key-answer", text: item.answer }));
  details.append(answer);
  if (item.solution) details.append(element("p", { text: "Solution:" }), rich("div", "math", item.solution));
  return details;
}

function answerForm(item) {
  const form = element("form", { className: "answer-form row", attrs: { id: `answer-form-${item.position}` } });
  if (item.choices.length > 0) {
    form.append(choicesFieldset(item));
  } else {
    const id = `answer-${item.position}`;
    form.append(
      element("label", { text: `Answer to question ${item.position}`, attrs: { for: id } }),
      element("input", {
        attrs: { id, name: "answer", maxlength: "2000", required: "", autocomplete: "off", spellcheck: "false" },
      }),
    );
  }
  form.append(element("button", { text: "Check answer", attrs: { type: "submit", id: `check-${item.position}` } }));
  return form;
}

function answerOf(form) {
  const chosen = form.querySelector("input[type=radio]:checked");
  if (chosen) return chosen.value;
  return form.querySelector("input[name=answer]")?.value.trim() ?? "";
}

// Writes the grading into the item's feedback area and locks its form.
export function showGrading(li, { correct, message, correctAnswer, solution, answer }) {
  const feedback = li.querySelector(".feedback");
  feedback.replaceChildren();
  feedback.dataset.correct = String(correct);
  const verdict = element("strong", {
    className: correct ? "verdict correct" : "verdict incorrect",
    text: correct ? "Correct" : "Incorrect",
  });
  feedback.append(verdict);
  if (answer !== undefined) feedback.append(element("p", { text: `Answer given: ${answer}` }));
  if (message) feedback.append(element("p", { className: "feedback-message", text: message }));
  if (correctAnswer) feedback.append(element("p", { className: "math", text: `Correct answer: ${correctAnswer}` }));
  if (solution) feedback.append(element("p", { text: "Worked solution:" }), rich("div", "math solution", solution));
  for (const control of li.querySelectorAll(".answer-form input, .answer-form button")) {
    control.disabled = true;
  }
}

function itemElement(item, submit) {
  const li = element("li", {
    className: "item",
    attrs: { id: `item-${item.position}`, "data-position": String(item.position), "data-item-id": item.item_id },
  });
  li.append(
    element("p", { className: "item-meta", text: meta(item) }),
    rich("div", "stem math", item.stem),
  );
  if (item.hints.length > 0) li.append(disclosure("Hints", "hints", item.hints));
  if (item.answer !== null && item.answer !== undefined) li.append(answerKey(item));
  const form = answerForm(item);
  li.append(form, element("div", { className: "feedback", attrs: { role: "status", "aria-live": "polite" } }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true; // one answer per item: no double submit while grading runs
    li.setAttribute("aria-busy", "true");
    try {
      await submit(li, item.position, answerOf(form));
    } finally {
      li.removeAttribute("aria-busy");
      if (!li.querySelector(".feedback").dataset.correct) button.disabled = false;
    }
  });
  if (item.response) {
    showGrading(li, {
      correct: item.response.correct,
      message: item.response.feedback_code,
      answer: item.response.answer,
      solution: item.solution,
    });
  }
  return li;
}

// Replaces the list's content with the assignment's items. `submit(li, position, answer)` is
// called when the teacher checks an answer; its promise settles when the grading is shown.
export function renderItems(list, assignment, submit) {
  list.replaceChildren(...assignment.items.map((item) => itemElement(item, submit)));
}
