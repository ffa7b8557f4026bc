// The newsroom admin.
// 1. Preview links: selected in full when they get focus, ready to copy.
// 2. The rich-text editor's toolbar speaks the interface language: django-prose-editor
//    translates its dialogs through the admin's JavaScript catalogue but not the button
//    titles, so they are translated here (catalogue: locale/admin/ru/LC_MESSAGES/djangojs.po).
// 3. The editor writes in its field's language: `lang` (from the textarea, set by the form)
//    and the browser's spell-checker on, so Russian text is checked as Russian.
"use strict";

(() => {
  const translate = typeof window.gettext === "function" ? window.gettext : (text) => text;
  // Literal calls, so that the strings are found by the catalogue tools.
  const LABELS = {
    paragraph: translate("paragraph"),
    Paragraph: translate("Paragraph"),
    "Heading 2": translate("Heading 2"),
    "Heading 3": translate("Heading 3"),
    "Heading 4": translate("Heading 4"),
    "unordered list": translate("unordered list"),
    "ordered list": translate("ordered list"),
    blockquote: translate("blockquote"),
    "horizontal rule": translate("horizontal rule"),
    bold: translate("bold"),
    italic: translate("italic"),
    underline: translate("underline"),
    strike: translate("strike"),
    subscript: translate("subscript"),
    superscript: translate("superscript"),
    "insert link": translate("insert link"),
    "remove link": translate("remove link"),
    "Insert table": translate("Insert table"),
    "Add column": translate("Add column"),
    "Delete column": translate("Delete column"),
    "Add row": translate("Add row"),
    "Delete row": translate("Delete row"),
    "Merge cells": translate("Merge cells"),
    "Split cell": translate("Split cell"),
    "Toggle header cell": translate("Toggle header cell"),
    "Delete table": translate("Delete table"),
    undo: translate("undo"),
    redo: translate("redo"),
  };

  const translateToolbar = (root) => {
    const buttons = root.querySelectorAll(".prose-menubar [title], .prose-menubar [aria-label]");
    for (const button of buttons) {
      for (const attribute of ["title", "aria-label"]) {
        const value = button.getAttribute(attribute);
        if (value && Object.hasOwn(LABELS, value)) {
          button.setAttribute(attribute, LABELS[value]);
        }
      }
    }
    for (const option of root.querySelectorAll(".prose-menubar__option > *")) {
      const value = option.textContent;
      if (Object.hasOwn(LABELS, value)) {
        option.textContent = LABELS[value];
      }
    }
  };

  // Toolbars are built when an editor starts (and again for inline rows added later).
  const observer = new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE && node.closest?.(".prose-editor")) {
          translateToolbar(node.closest(".prose-editor"));
        }
      }
    }
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });

  document.addEventListener("prose-editor:ready", (event) => {
    const { editor, textarea } = event.detail;
    const language = textarea.getAttribute("lang");
    if (language) {
      editor.view.dom.setAttribute("lang", language);
    }
    editor.view.dom.setAttribute("spellcheck", "true");
  });

  document.addEventListener("focusin", (event) => {
    if (event.target.matches?.("input.newsroom-share")) {
      event.target.select();
    }
  });
})();
