// Fills the jobs table from GET /api/v1/jobs (which lists oldest first; the table shows newest
// first). A practice job's row has a button that follows the job and shows its assignment.

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text ?? "";
  return td;
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function row(job, studentName, onOpen) {
  const tr = document.createElement("tr");
  tr.id = `job-row-${job.job_id}`;
  tr.dataset.jobId = job.job_id;
  tr.dataset.status = job.status;
  const status = cell(job.status, `status status-${job.status}`);
  const message = job.error ?? job.progress_message ?? "";
  tr.append(
    cell(when(job.created_at)),
    cell(job.student_id ? studentName(job.student_id) : ""),
    status,
    cell(`${job.progress_percent}%`),
    cell(job.job_type === "practice_generation" ? message : `${job.job_type}: ${message}`),
  );
  const actions = cell("");
  if (job.job_type === "practice_generation") {
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = job.status === "completed" ? "Show" : "Follow";
    open.setAttribute("aria-label", `${open.textContent} job created ${when(job.created_at)}`);
    open.addEventListener("click", () => onOpen(job.job_id));
    actions.append(open);
  }
  tr.append(actions);
  return tr;
}

export function renderJobs(tbody, jobs, studentName, onOpen) {
  const newestFirst = [...jobs].reverse();
  tbody.replaceChildren(...newestFirst.map((job) => row(job, studentName, onOpen)));
}
