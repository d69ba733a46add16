// The Create event wizard (templates/wizard.html): one step at a time, names derived
// and checked as you type, rows added and removed in place, a code editor for
// JavaScript-code events. Without this script the whole form shows and still works.
"use strict";

(() => {
  const form = document.querySelector("form[data-wizard]");
  if (!form) return;

  const portal = form.dataset.portal;
  const examples = JSON.parse(form.dataset.examples);
  const steps = [...form.querySelectorAll("[data-step]")];
  const progress = form.querySelector(".wizard-progress");
  const list = form.querySelector('[data-role="property-list"]');
  const eventLabel = form.querySelector('[data-role="event-label"]');
  const eventNameHint = form.querySelector('[data-role="event-name"]');
  const code = form.querySelector('[data-role="code"]');
  const codeEventName = form.querySelector('[data-role="code-event-name"]');
  const regenerate = form.querySelector('[data-action="regenerate-code"]');
  const nav = {
    back: form.querySelector('[data-nav="back"]'),
    next: form.querySelector('[data-nav="next"]'),
    create: form.querySelector('[data-nav="create"]'),
  };
  let current = steps[0];
  let eventName = null; // as the server predicts it from the label
  let lastGenerated = null;
  let codeEdited = code.value.trim() !== "";

  // ---- Steps ----

  function chosenMethod() {
    return form.querySelector('input[name="method"]:checked');
  }

  function activeSteps() {
    const method = chosenMethod();
    const wanted = ["method", ...(method ? method.dataset.steps.split(" ") : ["details", "properties"])];
    return steps.filter((step) => wanted.includes(step.dataset.step));
  }

  function show(key, focus) {
    const active = activeSteps();
    current = active.find((step) => step.dataset.step === key) || active[0];
    for (const step of steps) step.hidden = step !== current;
    const at = active.indexOf(current);
    nav.back.hidden = at === 0;
    nav.next.hidden = at === active.length - 1;
    nav.create.hidden = at !== active.length - 1;
    nav.create.textContent = chosenMethod()?.dataset.submit || "Create event";
    for (const item of progress.children) {
      item.hidden = !active.some((step) => step.dataset.step === item.dataset.progress);
      if (item.dataset.progress === current.dataset.step) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    }
    if (focus) current.querySelector("legend").focus();
  }

  async function move(by) {
    const active = activeSteps();
    const at = active.indexOf(current);
    if (by > 0) {
      const problem = await firstProblem([current]);
      if (problem) return reveal(problem);
    }
    show(active[Math.min(Math.max(at + by, 0), active.length - 1)].dataset.step, true);
  }

  function reveal(problem) {
    show(problem.step.dataset.step, false);
    problem.element.focus();
  }

  // ---- Errors beside fields ----

  function keyOf(element) {
    return element.name || element.id.replace(/^f-/, "");
  }

  function setError(element, message) {
    const key = keyOf(element);
    const box = element.closest(".field") || element;
    let note = document.getElementById("e-" + key);
    const described = (element.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== "e-" + key);
    if (!message) {
      if (note) note.remove();
      box.classList.remove("invalid");
      element.removeAttribute("aria-invalid");
    } else {
      if (!note) {
        note = document.createElement("p");
        note.className = "error";
        note.id = "e-" + key;
        if (box === element) element.querySelector(".options-title, legend").after(note);
        else box.append(note);
      }
      note.textContent = message;
      box.classList.add("invalid");
      element.setAttribute("aria-invalid", "true");
      described.unshift("e-" + key);
    }
    if (described.length) element.setAttribute("aria-describedby", described.join(" "));
    else element.removeAttribute("aria-describedby");
  }

  // ---- Property rows ----

  function rows() {
    return [...list.querySelectorAll(".property-row")];
  }

  function part(row, role) {
    return row.querySelector(`[data-role="${role}"]`);
  }

  function optionRows(row) {
    return [...row.querySelectorAll(".option-row")];
  }

  function optionBlank(option) {
    return !part(option, "option-label").value.trim() && !part(option, "option-value").value.trim();
  }

  function rowBlank(row) {
    const typed = ["label", "name", "description"].some((role) => part(row, role).value.trim());
    return !typed && optionRows(row).every(optionBlank);
  }

  function wireRow(row) {
    part(row, "name").dataset.edited = part(row, "name").value.trim() ? "1" : "";
    for (const option of optionRows(row)) wireOption(option);
    showOptions(row);
  }

  function wireOption(option) {
    const value = part(option, "option-value");
    value.dataset.edited = value.value.trim() ? "1" : "";
  }

  function showOptions(row) {
    part(row, "options").hidden = part(row, "type").value !== "enumeration";
  }

  function highest(elements, attribute) {
    return elements.reduce((most, element) => Math.max(most, Number(element.dataset[attribute]) || 0), -1);
  }

  function fromTemplate(id, replacements) {
    let html = document.getElementById(id).innerHTML;
    for (const [placeholder, value] of Object.entries(replacements)) html = html.replaceAll(placeholder, value);
    const holder = document.createElement("template");
    holder.innerHTML = html;
    return holder.content.firstElementChild;
  }

  function addProperty() {
    const row = fromTemplate("property-template", { __P__: String(highest(rows(), "row") + 1) });
    list.append(row);
    wireRow(row);
    part(row, "label").focus();
  }

  function addOption(row) {
    const option = fromTemplate("option-template", {
      __P__: row.dataset.row,
      __O__: String(highest(optionRows(row), "option") + 1),
    });
    part(row, "option-list").append(option);
    wireOption(option);
    part(option, "option-label").focus();
  }

  // ---- Names, checked by the server with the API's own rules ----

  let checkTimer = null;
  let checkSeq = 0;
  let pendingCheck = null;

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(() => { pendingCheck = check(); }, 200);
  }

  async function check() {
    clearTimeout(checkTimer);
    checkTimer = null;
    const all = rows();
    const params = new URLSearchParams();
    all.forEach((row, index) => {
      params.append("label", part(row, "label").value);
      params.append("name", part(row, "name").value);
      if (!part(row, "name").dataset.edited) params.append("derive", String(index));
    });
    params.set("event_label", eventLabel.value);
    const seq = ++checkSeq;
    let answer;
    try {
      const response = await fetch(`${form.dataset.checkUrl}?${params}`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      answer = await response.json();
    } catch {
      return; // offline: the server checks again when the form is sent
    }
    if (seq !== checkSeq) return; // a newer check answers for the form as it is now
    all.forEach((row, index) => {
      const name = part(row, "name");
      if (!row.isConnected) return;
      if (!name.dataset.edited) name.value = answer.names[index];
      setError(name, answer.problems[index]);
    });
    eventName = eventLabel.value.trim() ? answer.eventName : null;
    eventNameHint.textContent = eventName
      ? `Internal name: pe${portal}_${eventName}`
      : "Its internal name is derived from the label when the event is created.";
    refreshCode(false);
  }

  // The answer for the form as it is now: a check still waiting for typing to pause
  // runs at once.
  async function settledCheck() {
    if (checkTimer !== null || pendingCheck === null) pendingCheck = check();
    await pendingCheck;
  }

  // ---- Checking a step before moving on ----

  async function firstProblem(stepsToCheck) {
    for (const step of stepsToCheck) {
      const problems = await stepProblems(step.dataset.step);
      if (problems.length) return { step, element: problems[0] };
    }
    return null;
  }

  async function stepProblems(key) {
    const found = [];
    const flag = (element, message) => {
      setError(element, message);
      if (message) found.push(element);
    };
    if (key === "method") {
      flag(document.getElementById("f-method"), chosenMethod() ? "" : "Choose how the event is sent.");
    } else if (key === "details") {
      flag(eventLabel, eventLabel.value.trim() ? "" : "Event label must not be empty.");
    } else if (key === "properties") {
      await settledCheck();
      for (const row of rows()) {
        if (rowBlank(row)) continue;
        flag(part(row, "label"), part(row, "label").value.trim() ? "" : "Property label must not be empty.");
        const name = part(row, "name");
        if (name.getAttribute("aria-invalid")) found.push(name);
        if (part(row, "type").value === "enumeration") optionProblems(row, flag);
      }
    }
    return found;
  }

  function optionProblems(row, flag) {
    const filled = optionRows(row).filter((option) => !optionBlank(option));
    flag(part(row, "options"), filled.length ? "" : "An enumeration property needs at least one option.");
    const seen = new Set();
    for (const option of filled) {
      const label = part(option, "option-label");
      const value = part(option, "option-value");
      const text = value.value.trim();
      flag(label, label.value.trim() ? "" : "Option label must not be empty.");
      let problem = "";
      if (!text) problem = "Option value must not be empty.";
      else if (text.includes(";")) problem = "An option value cannot hold ';': it separates several values.";
      else if (seen.has(text)) problem = `Option value '${text}' is given twice.`;
      seen.add(text);
      flag(value, problem);
    }
  }

  // ---- The code block (JavaScript-code events) ----

  const JS_ESCAPES = new Map([["\\", "\\\\"], ["'", "\\'"], ["\n", "\\n"], ["\r", "\\r"], ["<", "\\x3c"]]);

  // The same literal as wizard_pages.js_string on the server.
  function jsString(text) {
    let out = "";
    for (const char of text) {
      const point = char.codePointAt(0);
      if (JS_ESCAPES.has(char)) out += JS_ESCAPES.get(char);
      else if (point < 0x20 || point === 0x2028 || point === 0x2029) out += "\\u" + point.toString(16).padStart(4, "0");
      else out += char;
    }
    return `'${out}'`;
  }

  function exampleFor(row) {
    const type = part(row, "type").value;
    if (type !== "enumeration") return examples[type] || "";
    const first = optionRows(row).find((option) => !optionBlank(option));
    return first ? part(first, "option-value").value.trim() : "";
  }

  // The same block as wizard_pages.tracking_code on the server.
  function generatedCode() {
    const pairs = rows()
      .filter((row) => !rowBlank(row))
      .map((row) => `    ${part(row, "name").value.trim()}: ${jsString(exampleFor(row))}`);
    return "var _hsq = window._hsq = window._hsq || [];\n"
      + "_hsq.push(['trackCustomBehavioralEvent', {\n"
      + `  name: ${jsString(`pe${portal}_${eventName || "event"}`)},\n`
      + "  properties: {\n"
      + (pairs.length ? pairs.join(",\n") + "\n" : "")
      + "  }\n"
      + "}]);\n";
  }

  function refreshCode(force) {
    const text = generatedCode();
    if (!force && code.value === text) codeEdited = false; // what the server sent back, untouched
    if (force || !codeEdited) {
      code.value = text;
      codeEventName.value = eventName || "event";
      codeEdited = false;
    }
    lastGenerated = text;
  }

  // Tab indents; Shift+Tab, or Esc then Tab, leaves the editor (no keyboard trap).
  let leaving = false;
  code.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      leaving = true;
      return;
    }
    if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey && !leaving) {
      event.preventDefault();
      code.setRangeText("  ", code.selectionStart, code.selectionEnd, "end");
      code.dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (event.key !== "Shift") leaving = false;
  });
  code.addEventListener("blur", () => { leaving = false; });
  code.addEventListener("input", () => {
    codeEdited = code.value.trim() !== "" && code.value !== lastGenerated;
  });

  // ---- Events ----

  form.addEventListener("click", (event) => {
    const link = event.target.closest("[data-step-link]");
    if (link) {
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target || !link.dataset.stepLink) return;
      event.preventDefault();
      show(link.dataset.stepLink, false);
      target.focus();
      return;
    }
    const button = event.target.closest("[data-action], [data-nav]");
    if (!button || button.dataset.nav === "create") return;
    event.preventDefault();
    const row = button.closest(".property-row");
    switch (button.dataset.action || button.dataset.nav) {
      case "next": move(1); break;
      case "back": move(-1); break;
      case "add-property": addProperty(); break;
      case "add-option": addOption(row); break;
      case "remove-option": {
        const fallback = row.querySelector('[data-action="add-option"]');
        button.closest(".option-row").remove();
        fallback.focus();
        break;
      }
      case "remove-property":
        row.remove();
        form.querySelector('[data-action="add-property"]').focus();
        scheduleCheck();
        break;
      case "regenerate-code": refreshCode(true); break;
      default: return;
    }
    refreshCode(false);
  });

  form.addEventListener("input", (event) => {
    const target = event.target;
    const role = target.dataset.role;
    if (role === "name") target.dataset.edited = target.value.trim() ? "1" : "";
    if (role === "option-value") target.dataset.edited = target.value.trim() ? "1" : "";
    if (role === "option-label") {
      const value = part(target.closest(".option-row"), "option-value");
      if (!value.dataset.edited) value.value = target.value.trim().toLowerCase().replace(/\s+/g, "_");
    }
    if (role === "label" || role === "name" || role === "event-label") scheduleCheck();
    if (target.getAttribute("aria-invalid") && role !== "name" && target.value.trim()) setError(target, "");
    if (target !== code) refreshCode(false);
  });

  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.dataset.role === "type") {
      showOptions(target.closest(".property-row"));
      refreshCode(false);
    }
    if (target.name === "method") {
      setError(document.getElementById("f-method"), "");
      show(current.dataset.step, false);
    }
  });

  // Enter in a field moves on, as Next does; it never presses a Remove button.
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || !(event.target instanceof HTMLInputElement)) return;
    event.preventDefault();
    if (nav.create.hidden) move(1);
    else form.requestSubmit(nav.create);
  });

  let checked = false;
  form.addEventListener("submit", async (event) => {
    const submitter = event.submitter;
    if (checked || !submitter || submitter.value !== "create") return;
    event.preventDefault();
    const problem = await firstProblem(activeSteps());
    if (problem) return reveal(problem);
    checked = true;
    // Later, not now: a form ignores a submission asked for while it is still firing
    // this submit event, and the checks above may have answered without waiting.
    setTimeout(() => form.requestSubmit(submitter), 0);
  });

  // ---- Visual events: what to track, and the picker ----
  // The picker opens the customer's page with a one-time token; the tracking script
  // there posts the chosen selector back to this window, naming occur's origin as the
  // only receiver. Only a message from that page's origin, carrying that token, counts,
  // and the server spends the token before the selector is used (services/picker.py).

  const visualStep = form.querySelector('[data-step="visual"]');
  const urlOp = form.querySelector('[data-role="url-op"]');
  const urlParam = form.querySelector('[data-role="url-param"]');
  const pickerStatus = form.querySelector('[data-role="picker-status"]');
  let picking = null; // {token, origin} while a picker window is open

  function visualKind() {
    const checkedKind = form.querySelector('[data-role="visual-kind"]:checked');
    return checkedKind ? checkedKind.value : "CLICKED_ELEMENT";
  }

  function syncVisual() {
    const kind = visualKind();
    for (const part of visualStep.querySelectorAll("div[data-visual]")) {
      part.hidden = part.dataset.visual !== kind;
    }
    const anyPage = urlOp.querySelector('option[data-visual]');
    anyPage.hidden = anyPage.disabled = kind !== "CLICKED_ELEMENT";
    if (anyPage.disabled && urlOp.value === "") urlOp.value = "contains";
    urlParam.hidden = !urlOp.value.startsWith("query_param");
  }

  async function startPicker() {
    const pageField = form.querySelector('[data-role="picker-page"]');
    const body = new FormData();
    body.set("csrf_token", form.elements.csrf_token.value);
    body.set("page_url", pageField.value);
    const response = await fetch(visualStep.dataset.pickerUrl, { method: "POST", body });
    const answer = await response.json();
    if (!response.ok) {
      setError(pageField, answer.message);
      return pageField.focus();
    }
    setError(pageField, "");
    picking = { token: answer.token, origin: answer.origin };
    pickerStatus.textContent = "Point at the element on your page, then confirm there.";
    window.open(answer.openUrl, "_blank");
  }

  async function redeem(data) {
    const body = new FormData();
    body.set("csrf_token", form.elements.csrf_token.value);
    body.set("token", data.token);
    body.set("selector", data.selector);
    picking = null;
    const response = await fetch(visualStep.dataset.pickerUrl + "/redeem", { method: "POST", body });
    const answer = await response.json();
    const selector = form.querySelector('[data-role="selector"]');
    if (!response.ok) {
      pickerStatus.textContent = answer.message;
      return;
    }
    selector.value = answer.selector;
    setError(selector, "");
    pickerStatus.textContent = "Picked. Check the selector below; you may edit it.";
    selector.focus();
  }

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!picking || event.origin !== picking.origin) return;
    if (!data || data.type !== "occur-picker" || data.token !== picking.token) return;
    if (typeof data.selector !== "string") return;
    redeem(data);
  });
  visualStep.addEventListener("change", (event) => {
    if (event.target.matches('[data-role="visual-kind"], [data-role="url-op"]')) syncVisual();
  });
  form.querySelector('[data-action="pick"]').addEventListener("click", startPicker);
  syncVisual();

  // ---- Start ----

  for (const row of rows()) wireRow(row);
  for (const legend of form.querySelectorAll(".wizard-step > legend")) legend.tabIndex = -1;
  progress.hidden = false;
  nav.back.hidden = false;
  nav.next.hidden = false;
  regenerate.hidden = false;
  show(form.dataset.openStep || "method", false);
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  pendingCheck = check();
})();
