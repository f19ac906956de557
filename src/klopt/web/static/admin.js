// The admin pages' script: a [data-copy] button copies the value of the field it names
// (a new token or password, shown once). Without script the field is still selectable.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!(field instanceof HTMLInputElement)) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = button.dataset.copied || button.textContent;
  } catch (_) {
    document.execCommand && document.execCommand("copy");
  }
});
