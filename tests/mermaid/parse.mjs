// Mermaid's own parser over diagrams: reads a JSON list of diagram texts on stdin and writes a JSON
// list to stdout, one result per diagram, in order:
//   {ok: true, type, nodes, edges, subgraphs} for a flowchart, as Mermaid's parser understood it
//     (labels as a reader sees them: entity codes decoded, one string per <br> line), or
//   {ok: false, error} when Mermaid rejects the text.
//
// The parser needs no browser, but Mermaid sanitises labels with DOMPurify while it parses, and
// DOMPurify binds to the `window` it finds when first imported: a jsdom window is set up before
// mermaid is imported.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

// Mermaid's logger writes to the console: stdout is kept for the result.
for (const level of ["log", "info", "warn", "debug"]) console[level] = (...args) => console.error(...args);

const { window } = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = window;
globalThis.document = window.document;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

// Mermaid keeps `#name;` and `#35;` entity codes as placeholders until it renders; decode them as
// the renderer does, then as HTML.
function shown(text) {
  return String(text ?? "")
    .split("<br>")
    .map((line) => {
      const html = line.replaceAll("ﬂ°°", "&#").replaceAll("ﬂ°", "&").replaceAll("¶ß", ";");
      const element = window.document.createElement("textarea");
      element.innerHTML = html;
      return element.value;
    });
}

function structure(diagram) {
  const db = diagram.db;
  if (typeof db.getVertices !== "function") return {};
  const nodes = {};
  for (const [id, vertex] of db.getVertices()) nodes[id] = { lines: shown(vertex.text), classes: vertex.classes ?? [] };
  const edges = db.getEdges().map((edge) => ({
    start: edge.start,
    end: edge.end,
    type: edge.type,
    stroke: edge.stroke,
    label: edge.text ? shown(edge.text).join(" ") : null,
    style: edge.style ?? [],
  }));
  const subgraphs = db.getSubGraphs().map((group) => ({
    id: group.id,
    title: shown(group.title).join(" "),
    nodes: group.nodes,
    classes: group.classes ?? [],
  }));
  return { nodes, edges, subgraphs };
}

const diagrams = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const text of diagrams) {
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    results.push({ ok: true, type: diagram.type, ...structure(diagram) });
  } catch (error) {
    results.push({ ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results) + "\n");
