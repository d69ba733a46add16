// occur's own small script: no inline handlers (pages work under a strict CSP).
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.value !== undefined ? source.value : source.textContent;
  navigator.clipboard.writeText(text).then(() => {
    const before = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = before; }, 1500);
  });
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
});

// Times are stored as epoch milliseconds; show them in the reader's locale. Other
// scripts (timeline.js) call it again for rows they add.
function showLocalTimes(root) {
  for (const node of root.querySelectorAll("time[data-ms]")) {
    const ms = Number(node.dataset.ms);
    if (!Number.isFinite(ms)) continue;
    const when = new Date(ms);
    node.dateTime = when.toISOString();
    node.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}

window.occur = { showLocalTimes };
showLocalTimes(document);
