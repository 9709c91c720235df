// Items described in a teacher's and a student's words rather than the API's ids:
// `linear_equations.one_step` at a predicted success of 0.9 is "Linear equations: one step, easy".

function words(id) {
  return id.replaceAll("_", " ").replaceAll("-", " ").trim();
}

export function skillWords(skill) {
  const [area, ...rest] = String(skill).split(".");
  const head = words(area);
  const named = head.charAt(0).toUpperCase() + head.slice(1);
  return rest.length ? `${named}: ${words(rest.join(" "))}` : named;
}

export function levelWords(predictedSuccess) {
  if (predictedSuccess >= 0.85) return "easy";
  if (predictedSuccess >= 0.6) return "just right";
  return "a stretch";
}

export function itemWords(item) {
  return `${skillWords(item.skill)}, ${levelWords(item.predicted_success)}`;
}
