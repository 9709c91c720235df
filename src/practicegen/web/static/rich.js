// Shows the service's text (Markdown with $LaTeX$) as DOM nodes: math typeset by KaTeX (loaded by
// the page from /static/vendor/katex), **bold**, *italic*, `code` and paragraphs as elements,
// everything else as text. A small subset, written here rather than taken from a Markdown
// library: stems come from models, and building nodes (never HTML strings) leaves no way for a
// stem to inject markup. KaTeX builds its output through the DOM too, which the page's
// Content-Security-Policy allows where inline style attributes would be refused.

const MATH = /\$\$([\s\S]+?)\$\$|\\\(([\s\S]+?)\\\)|\$((?:\\\$|[^$\n])+?)\$/g;
const INLINE = /\*\*(.+?)\*\*|\*(.+?)\*|`([^`]+)`/g;

function mathNode(tex, display) {
  const span = document.createElement("span");
  span.className = display ? "math-display" : "math-inline";
  const katex = globalThis.katex;
  try {
    if (!katex) throw new Error("KaTeX not loaded");
    katex.render(tex, span, { displayMode: display, throwOnError: true, trust: false });
  } catch {
    span.textContent = display ? `$$${tex}$$` : `$${tex}$`; // shown as written, never lost
  }
  return span;
}

function inlineNodes(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const [, bold, italic, code] = match;
    const tag = bold !== undefined ? "strong" : italic !== undefined ? "em" : "code";
    const node = document.createElement(tag);
    node.textContent = bold ?? italic ?? code;
    nodes.push(node);
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

// The nodes of one paragraph: math and the inline marks around it.
export function richInline(text) {
  const nodes = [];
  let last = 0;
  for (const match of String(text).matchAll(MATH)) {
    if (match.index > last) nodes.push(...inlineNodes(text.slice(last, match.index)));
    const [, display, paren, inline] = match;
    nodes.push(mathNode((display ?? paren ?? inline).replaceAll("\\$", "$"), display !== undefined));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(...inlineNodes(text.slice(last)));
  return nodes;
}

// Fills `element` with `text`: one <p> per paragraph (blank-line separated), its lines kept
// apart by <br> (a worked solution's steps stay one per line).
export function renderRich(element, text) {
  const paragraphs = String(text ?? "").split(/\n\s*\n/).filter((p) => p.trim());
  element.replaceChildren(...paragraphs.map((paragraph) => {
    const p = document.createElement("p");
    paragraph.trim().split("\n").forEach((line, index) => {
      if (index > 0) p.append(document.createElement("br"));
      p.append(...richInline(line));
    });
    return p;
  }));
  return element;
}
