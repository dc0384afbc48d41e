// The run's view in the browser (anywidget): a slider over iterations, the graph of the iteration chosen,
// loss and gradient-norm plots marking it, and the doctor's findings. The slider needs no kernel: while
// the cell runs, each structure's graph (drawn at its first iteration) is shown; once the kernel is idle,
// Python draws the chosen iteration with its own numbers (`shown`).

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v;  // "nan", "inf"
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

function render({ model, el: root }) {
  root.classList.add("bps-run");
  const head = el("div", "bps-head");
  const bar = el("div", "bps-bar");
  const slider = el("input", "bps-slider");
  slider.type = "range";
  slider.min = 0;
  const readout = el("span", "bps-readout");
  bar.append(slider, readout);
  const body = el("div", "bps-body");
  const graph = el("div", "bps-graph");
  const caption = el("div", "bps-caption");
  const drawing = el("div", "bps-drawing");
  graph.append(caption, drawing);
  const plots = el("div", "bps-plots");
  body.append(graph, plots);
  const findings = el("div", "bps-findings-box");
  root.append(head, bar, body, findings);

  let following = model.get("iteration") < 0;
  let drawn = null;  // what the drawing holds now

  function chosen() {
    const n = model.get("count");
    if (n === 0) return -1;
    return following ? n - 1 : Math.min(Number(slider.value), n - 1);
  }

  function mark(svgText, i, n) {
    const box = el("div", "bps-plot-box");
    box.innerHTML = svgText;
    const svg = box.querySelector("svg");
    if (svg && n > 0 && i >= 0) {
      const d = svg.dataset;
      const x0 = Number(d.x0), x1 = Number(d.x1);
      const x = n > 1 ? x0 + (x1 - x0) * i / (n - 1) : (x0 + x1) / 2;
      const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
      for (const [k, v] of [["x1", x], ["x2", x], ["y1", d.y0], ["y2", d.y1], ["stroke", "#e65100"],
                            ["stroke-width", 1.5], ["stroke-dasharray", "4 3"]]) line.setAttribute(k, v);
      svg.appendChild(line);
    }
    return box;
  }

  function draw() {
    const n = model.get("count");
    const i = chosen();
    const error = model.get("error");
    head.textContent = `Backprop Studio — ${model.get("status")}: ${n} iteration${n === 1 ? "" : "s"}` +
      (error ? ` — ${error.type}: ${error.message}` : "") + ` · ${model.get("path")}`;
    slider.max = Math.max(n - 1, 0);
    slider.value = Math.max(i, 0);
    slider.disabled = n === 0;
    if (i < 0) {
      readout.textContent = "waiting for the first backward pass…";
    } else {
      readout.textContent = `iteration ${i} / ${n - 1} · loss ${fmt(model.get("losses")[i])} · ` +
        `gradient norm ${fmt(model.get("grad_norms")[i])}` + (following ? " · following" : "");
    }
    const shown = model.get("shown");
    let want = null, text = "";
    if (shown && shown.index === i) {
      want = "shown:" + i;
      text = `iteration ${i}, its own values and gradients`;
    } else if (i >= 0) {
      const g = model.get("graphs")[model.get("structure")[i]];
      if (g) {
        want = "graph:" + g.index;
        text = g.index === i ? `iteration ${i}` : `iteration ${i}: the structure of iteration ${g.index} ` +
          `(numbers of iteration ${g.index}${model.get("status") === "running" ? "" : "; drawing this one…"})`;
      }
    }
    caption.textContent = text;
    if (want !== drawn) {
      drawn = want;
      const svg = want === null ? "" : want.startsWith("shown:") ? shown.svg
        : model.get("graphs")[model.get("structure")[i]].svg;
      drawing.innerHTML = svg.slice(Math.max(svg.indexOf("<svg"), 0));
    }
    plots.replaceChildren(mark(model.get("loss_plot"), i, n), mark(model.get("grad_plot"), i, n));
    const list = model.get("findings");
    findings.replaceChildren(el("div", "bps-findings-title", `Doctor: ${list.length} finding${list.length === 1 ? "" : "s"}`));
    for (const f of list) {
      const row = el("div", `bps-finding bps-${f.level}`);
      row.append(el("b", "", f.level.toUpperCase() + " "), el("code", "", f.code),
                 el("span", "", ` iteration ${f.iteration} `), el("b", "", String(f.subject)),
                 el("span", "", `: ${f.message}`));
      if (f.hint) row.append(el("div", "bps-hint", f.hint));
      if (f.iteration !== null && f.iteration !== undefined) {
        row.title = "show this iteration";
        row.onclick = () => choose(f.iteration);
      }
      findings.append(row);
    }
  }

  function choose(i) {
    const n = model.get("count");
    following = i >= n - 1 && model.get("status") === "running";
    slider.value = i;
    model.set("iteration", following ? -1 : i);
    model.save_changes();
    draw();
  }

  slider.addEventListener("input", () => choose(Number(slider.value)));
  for (const name of ["count", "status", "shown", "findings", "graphs"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
