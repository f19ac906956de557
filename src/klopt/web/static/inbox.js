// The inbox's keys (no inline script anywhere: the Content-Security-Policy forbids it).
// j / ArrowDown and k / ArrowUp move between mentions; 1 kept, 2 broken, 3 neutral (on
// the selected mention's first promise), 0 about no promise, a: about another promise,
// Enter opens the mention. Every key presses a button or follows a link that is on the
// page anyway: without JavaScript the same forms and links work with mouse and Tab.
"use strict";
(() => {
  const rows = () => Array.from(document.querySelectorAll("tbody[data-inbox] > tr.inbox-row"));
  let selectedId = null;

  function select(row, focus = true) {
    if (!row) return;
    for (const other of rows()) {
      other.removeAttribute("aria-current");
      other.tabIndex = -1;
    }
    row.setAttribute("aria-current", "true");
    row.tabIndex = 0;
    selectedId = row.id;
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function selected() {
    return (selectedId && document.getElementById(selectedId)) || null;
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(selected());
    const next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    select(all[next]);
  }

  function press(row, selector) {
    const button = row?.querySelector(selector);
    if (button && !button.disabled) button.click();
  }

  function typing(target) {
    return target instanceof HTMLElement
      && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
  }

  const stances = { "1": "kept", "2": "broken", "3": "neutral" };

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (!rows().length) return;
    const row = selected();
    const key = event.key;
    if (key === "j" || key === "ArrowDown") {
      move(1);
    } else if (key === "k" || key === "ArrowUp") {
      move(-1);
    } else if (key in stances && row) {
      press(row, `.inbox-verdict form button[data-stance="${stances[key]}"]`);
    } else if (key === "0" && row) {
      press(row, "button[data-none-all]");
    } else if (key === "a" && row) {
      row.querySelector("select[data-move]")?.focus();
    } else if (key === "Enter" && row && event.target === row) {
      const link = row.querySelector("a[data-open-link]");
      window.location.assign(link ? link.href : row.dataset.open);
    } else {
      return;
    }
    event.preventDefault();
  });

  // A click in a row selects it (without stealing the focus from what was clicked).
  document.addEventListener("click", (event) => {
    const row = event.target instanceof Element ? event.target.closest("tr.inbox-row") : null;
    if (row) select(row, false);
  });

  // htmx swapped a corrected row in: keep it selected, and the focus on it.
  document.addEventListener("htmx:afterSwap", () => {
    const row = selected();
    if (row && !row.hasAttribute("aria-current")) select(row);
  });

  // The page opened at #mention-N (after a correction without JavaScript): select it.
  document.addEventListener("DOMContentLoaded", () => {
    const fromHash = window.location.hash.startsWith("#mention-")
      ? document.getElementById(window.location.hash.slice(1)) : null;
    if (fromHash) select(fromHash);
  });
})();
