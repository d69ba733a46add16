// Import spreadsheet (templates/import_*.html): dropping a file on the file step; the
// mapping step's parts one at a time, its guide and preview kept current as columns
// change; an import's progress bar. Without this script every page still works: the
// whole mapping form shows and the server says what is missing when it is sent.
"use strict";

(() => {
  // ---- The file step: drop a file, or choose it ----

  const upload = document.querySelector("form[data-import-upload]");
  if (upload) {
    const zone = upload.querySelector("[data-drop]");
    const input = zone.querySelector('input[type="file"]');
    const shown = zone.querySelector('[data-role="drop-name"]');
    const say = () => { shown.textContent = input.files.length ? `Chosen: ${input.files[0].name}` : ""; };
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (event.dataTransfer.files.length) input.files = event.dataTransfer.files;
      say();
    });
    input.addEventListener("change", say);
    upload.addEventListener("submit", () => {
      const button = upload.querySelector('button[type="submit"]');
      button.disabled = true;
      button.textContent = "Uploading…";
    });
  }

  // ---- The mapping step ----

  const form = document.querySelector("form[data-import-map]");
  if (form) mapping(form);

  function mapping(form) {
    const steps = [...form.querySelectorAll("[data-step]")];
    const progress = form.querySelector(".import-progress");
    const guide = form.querySelector('[data-role="guide"]');
    const needs = guide.querySelector('[data-role="needs"]');
    const ready = guide.querySelector('[data-role="ready"]');
    const preview = form.querySelector('[data-role="preview"]');
    const nav = {
      back: form.querySelector('[data-nav="back"]'),
      next: form.querySelector('[data-nav="next"]'),
      finish: form.querySelector('[data-nav="finish"]'),
    };
    let current = steps[0];
    let unmet = needs.children.length;

    function show(key, focus) {
      current = steps.find((step) => step.dataset.step === key) || steps[0];
      for (const step of steps) step.hidden = step !== current;
      const at = steps.indexOf(current);
      nav.back.hidden = at === 0;
      nav.next.hidden = at === steps.length - 1;
      nav.finish.hidden = at !== steps.length - 1;
      for (const item of progress.querySelectorAll("[data-progress]")) {
        if (item.dataset.progress === key) item.setAttribute("aria-current", "step");
        else item.removeAttribute("aria-current");
      }
      syncNext();
      if (focus) current.querySelector("legend").focus();
    }

    function syncNext() {
      const blocked = current.dataset.step === "mapping" && unmet > 0;
      nav.next.disabled = blocked;
      if (blocked) nav.next.setAttribute("aria-describedby", "import-guide");
      else nav.next.removeAttribute("aria-describedby");
    }

    // Which property control each column shows: its Import as decides.
    function syncRow(row) {
      const as = row.querySelector('[data-role="as"]').value;
      const eventChoice = row.querySelector('[data-role="event-property"]').value;
      for (const part of row.querySelectorAll("[data-for]")) {
        const wanted = part.dataset.for === "new" ? as === "event" && eventChoice === "__new__" : part.dataset.for === as;
        part.hidden = !wanted;
      }
    }

    function setError(element, message) {
      const key = element.name || element.id.replace(/^f-/, "");
      const box = element.closest(".field") || element;
      let note = document.getElementById("e-" + key);
      if (!message) {
        if (note) note.remove();
        box.classList.remove("invalid");
        element.removeAttribute("aria-invalid");
        return;
      }
      if (!note) {
        note = document.createElement("p");
        note.className = "error";
        note.id = "e-" + key;
        if (box === element) guide.after(note);
        else box.append(note);
      }
      note.textContent = message;
      box.classList.add("invalid");
      element.setAttribute("aria-invalid", "true");
      const described = (element.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== note.id);
      element.setAttribute("aria-describedby", [note.id, ...described].join(" "));
    }

    function fieldOf(key) {
      return key === "mapping" ? document.getElementById("f-mapping") : document.getElementById("f-" + key);
    }

    let timer = null;
    let seq = 0;
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(check, 200);
    }

    async function check() {
      const mine = ++seq;
      let answer;
      try {
        const response = await fetch(form.dataset.checkUrl, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { Accept: "application/json" },
        });
        if (!response.ok) return;
        answer = await response.json();
      } catch {
        return; // offline: the server checks again when the form is sent
      }
      if (mine !== seq) return;
      needs.replaceChildren(...answer.requirements.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
      unmet = answer.requirements.length;
      ready.hidden = unmet > 0;
      for (const [key, name] of Object.entries(answer.names)) {
        const input = fieldOf(key);
        if (input && !input.value.trim()) input.value = name;
      }
      for (const element of form.querySelectorAll('[aria-invalid="true"]')) {
        const key = element.name || element.id.replace(/^f-/, "");
        if (!(key in answer.problems) && !["name", "consent", "date_format", "time_zone"].includes(key)) {
          setError(element, "");
        }
      }
      for (const [key, message] of Object.entries(answer.problems)) {
        const element = fieldOf(key);
        if (element) setError(element, message);
      }
      renderPreview(answer.preview);
      syncNext();
    }

    function cell(row, text, className) {
      const td = document.createElement("td");
      if (className) td.className = className;
      if (text !== undefined) td.textContent = text;
      row.append(td);
      return td;
    }

    function pairs(row, values) {
      const td = cell(row);
      for (const [name, value] of values) {
        const pair = document.createElement("span");
        pair.className = "pair";
        const label = document.createElement("span");
        label.className = "prop-name";
        label.textContent = name;
        pair.append(label, " " + value);
        td.append(pair);
      }
    }

    function renderPreview(rows) {
      if (!rows.length) {
        const row = document.createElement("tr");
        cell(row, "Nothing to preview yet: map the columns first.", "hint").colSpan = 5;
        preview.replaceChildren(row);
        return;
      }
      preview.replaceChildren(...rows.map((shown) => {
        const row = document.createElement("tr");
        cell(row, String(shown.line), "num");
        if (shown.problems.length) {
          const td = cell(row, undefined, "error");
          td.colSpan = 4;
          for (const problem of shown.problems) {
            const span = document.createElement("span");
            span.className = "problem";
            span.textContent = problem;
            td.append(span);
          }
          return row;
        }
        cell(row, shown.identity);
        cell(row, shown.occurredAt);
        pairs(row, shown.eventValues);
        pairs(row, shown.contactValues);
        return row;
      }));
    }

    form.addEventListener("change", (event) => {
      const row = event.target.closest(".column-row");
      if (row) syncRow(row);
      if (event.target.id === "f-consent" && event.target.checked) setError(event.target, "");
      schedule();
    });
    form.addEventListener("input", (event) => {
      if (event.target.matches("input:not([type=checkbox])")) schedule();
    });
    form.addEventListener("click", (event) => {
      const button = event.target.closest("[data-nav]");
      if (!button || button.dataset.nav === "finish") return;
      event.preventDefault();
      const at = steps.indexOf(current) + (button.dataset.nav === "next" ? 1 : -1);
      show(steps[Math.min(Math.max(at, 0), steps.length - 1)].dataset.step, true);
    });
    // Enter in a field moves on as Next does; on the last step it finishes.
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing || !(event.target instanceof HTMLInputElement)) return;
      event.preventDefault();
      if (!nav.finish.hidden) form.requestSubmit(nav.finish);
      else if (!nav.next.disabled) nav.next.click();
    });
    form.addEventListener("submit", (event) => {
      const consent = document.getElementById("f-consent");
      if (unmet > 0) {
        event.preventDefault();
        show("mapping", false);
        guide.focus();
        return;
      }
      if (!consent.checked) {
        event.preventDefault();
        setError(consent, "Confirm that the contacts expect to hear from you and that the file holds no purchased list.");
        show("finish", false);
        consent.focus();
        return;
      }
      nav.finish.disabled = true;
    });

    guide.id = "import-guide";
    guide.tabIndex = -1;
    for (const row of form.querySelectorAll(".column-row")) syncRow(row);
    for (const legend of form.querySelectorAll(".wizard-step > legend")) legend.tabIndex = -1;
    nav.back.hidden = false;
    nav.next.hidden = false;
    show(form.dataset.openStep || "mapping", false);
    const summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  // ---- An import's page: the progress bar, polled while the import runs ----

  const running = document.querySelector("[data-import-progress]");
  if (running) {
    const bar = running.querySelector("progress");
    const percent = running.querySelector('[data-role="percent"]');
    // Once Cancel is pressed its answer shows the page: a reload now would replace it.
    let leaving = false;
    document.addEventListener("submit", (event) => { if (!event.defaultPrevented) leaving = true; });
    const poll = async () => {
      if (leaving) return;
      let answer;
      try {
        const response = await fetch(running.dataset.url, { headers: { Accept: "application/json" } });
        if (!response.ok) return setTimeout(poll, 3000);
        answer = await response.json();
      } catch {
        return setTimeout(poll, 3000);
      }
      bar.value = answer.progress;
      percent.textContent = `${Math.floor(answer.progress * 100)}%`;
      for (const [name, value] of Object.entries(answer.counters)) {
        const shown = document.querySelector(`[data-counter="${name}"]`);
        if (shown) shown.textContent = value.toLocaleString();
      }
      if (leaving) return;
      if (answer.finished) window.location.reload();
      else setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }
})();
