// A record's timeline: "Load more" appends the next page in place. The link's href opens
// that page on its own, which is what happens without this script or when a fetch fails.
"use strict";

async function loadMore(link) {
  const rows = document.querySelector("[data-timeline-rows]");
  const pager = link.closest("[data-timeline-pager]");
  if (!rows || !pager) return false;
  link.setAttribute("aria-busy", "true");
  link.textContent = "Loading…";
  const response = await fetch(link.dataset.timelineMore, {
    credentials: "same-origin",
    headers: { Accept: "text/html" },
  });
  // A lapsed session answers with the sign-in page: let the plain link handle it.
  if (!response.ok || response.redirected) return false;
  const fragment = new DOMParser().parseFromString(await response.text(), "text/html");
  const newRows = fragment.querySelector("[data-timeline-rows]");
  const newPager = fragment.querySelector("[data-timeline-pager]");
  if (!newRows || !newPager) return false;
  const added = [...newRows.children];
  for (const row of added) {
    window.occur.showLocalTimes(row);  // app.js, loaded first
    rows.append(document.adoptNode(row));
  }
  pager.replaceWith(document.adoptNode(newPager));
  // Keyboard users continue from the first row that arrived, not from the page top.
  const first = added.length ? added[0].querySelector("a") : null;
  if (first) first.focus();
  return true;
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-timeline-more]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  loadMore(link)
    .catch(() => false)
    .then((done) => {
      if (!done) window.location.assign(link.href);
    });
});
