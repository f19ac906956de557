// The draft editor: a live character count beside the text (the check itself is htmx:
// the textarea posts to /drafts/check as you type). No inline script (CSP).
"use strict";

function countCharacters(field, output) {
  // Characters as the checker counts them (code points), not UTF-16 units: an emoji is one.
  const count = Array.from(field.value).length;
  const template = output.dataset.template || "{count}";
  output.textContent = template.replace("{count}", String(count));
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-count-for]").forEach((output) => {
    const field = document.getElementById(output.dataset.countFor);
    if (!field) return;
    field.addEventListener("input", () => countCharacters(field, output));
    countCharacters(field, output);
  });
});

// A manual channel (X, LinkedIn, ...): the approved text, copied with one press. Where the
// clipboard is not offered (an insecure origin), the text is selected to copy by hand.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector("[data-copy-status]");
    if (!source) return;
    button.addEventListener("click", async () => {
      source.select();
      try {
        await navigator.clipboard.writeText(source.value);
        if (status) status.textContent = button.dataset.copied || "";
      } catch (error) {
        document.execCommand("copy");
      }
    });
  });
});
