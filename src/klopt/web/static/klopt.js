// klopt's own script: no inline script anywhere (the Content-Security-Policy forbids it).
"use strict";
document.documentElement.classList.add("js");

// Every htmx request carries the session's CSRF token.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
});

// A <select data-autosubmit> submits its form when it changes (its button is for no-JS).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
    target.form?.requestSubmit();
  }
});

// Errors from htmx requests are shown, not swallowed: the server answers with a
// message in the user's language; it goes into the nearest [data-errors] region.
document.addEventListener("htmx:responseError", (event) => {
  const region = event.detail.elt.closest("[data-errors-scope]")?.querySelector("[data-errors]")
    || document.querySelector("[data-errors]");
  if (!region) return;
  const xhr = event.detail.xhr;
  let text = xhr.responseText;
  try {
    const body = JSON.parse(text);
    text = body.error ? [body.error.message, body.error.hint].filter(Boolean).join(" ") : text;
  } catch (_) {
    const doc = new DOMParser().parseFromString(text, "text/html");
    text = (doc.querySelector('[role="alert"]') || doc.body).textContent.trim();
  }
  region.textContent = text;
});
