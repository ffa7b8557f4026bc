// Unsaved changes on the release form: the workflow panel's buttons act on the saved release,
// so pressing one (or leaving the page) with edits not yet saved asks first. The form's own
// buttons ("Save", "Save and submit for review", "Save and publish") save, so they pass.
// A static file (no inline script) so that the admin's Content-Security-Policy allows it.
"use strict";

// Loaded in the page's head (admin Media), so it waits for the document.
document.addEventListener("DOMContentLoaded", () => {
  const translate = typeof window.gettext === "function" ? window.gettext : (text) => text;
  const form = document.querySelector("#release_form");
  if (!form) {
    return;
  }
  let dirty = false;
  let saving = false;
  const mark = () => {
    dirty = true;
    document.querySelector("#newsroom-unsaved-hint")?.classList.add("newsroom-unsaved");
  };
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("submit", () => {
    saving = true;
  });

  const QUESTION = translate(
    "You have unsaved changes. This action uses the saved version and your changes would be " +
      "lost. Use “Save and …” under the form instead. Continue anyway?",
  );
  for (const action of document.querySelectorAll("form.newsroom-action")) {
    action.addEventListener("submit", (event) => {
      if (dirty && !window.confirm(QUESTION)) {
        event.preventDefault();
        return;
      }
      saving = true;
    });
  }

  window.addEventListener("beforeunload", (event) => {
    if (dirty && !saving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
});
