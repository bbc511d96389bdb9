// Review queue keyboard: j/k move, Enter opens, a accept (twice for a high-risk item), o override, e escalate, i request info,
// ? help, Ctrl+Enter sends the form being typed in. After an action that takes the item out of
// the queue, the next item opens. Every page works without this file.
(() => {
  const rows = () => Array.from(document.querySelectorAll("[data-review-row]"));
  const panel = () => document.getElementById("review-panel");
  let current = -1;

  function select(index, { focus = true } = {}) {
    const all = rows();
    if (!all.length) return null;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => {
      row.classList.toggle("current", i === current);
      row.setAttribute("aria-selected", i === current ? "true" : "false");
    });
    const link = all[current].querySelector("[data-open]");
    if (focus && link) {
      link.focus({ preventScroll: true });
      all[current].scrollIntoView({ block: "nearest" });
    }
    return all[current];
  }

  function open(row) {
    const link = row && row.querySelector("[data-open]");
    if (link) link.click();
  }

  function syncToPanel() {
    const article = document.querySelector("#review-panel [data-decision]");
    if (!article) return;
    const index = rows().findIndex((r) => r.dataset.decision === article.dataset.decision);
    if (index >= 0) {
      rows().forEach((r) => r.classList.remove("selected"));
      rows()[index].classList.add("selected");
      select(index, { focus: false });
    }
  }

  function focusIn(selector) {
    const details = document.querySelector(`#review-panel details[data-action="${selector}"]`);
    if (!details) return false;
    details.open = true;
    const field = details.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
    return true;
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (!document.querySelector("[data-review-queue]")) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form) {
      event.preventDefault(); // Ctrl+Enter sends the form a note is being typed in
      event.target.form.requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const suggestions = event.target.closest("[data-code-autocomplete]")?.querySelector("[role=listbox]");
    if (event.key === "Escape" && suggestions && suggestions.children.length) return; // closes the list
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      select(current);
      return;
    }
    if (typing(event.target)) return;
    const help = document.getElementById("review-shortcuts");
    switch (event.key) {
      case "j":
        select(current + 1);
        break;
      case "k":
        select(current - 1);
        break;
      case "Enter":
        if (event.target.closest("a, button, summary")) return; // the browser follows it
        open(rows()[current] || select(0));
        break;
      case "a": {
        const form = document.querySelector('#review-panel form[data-action="accept"]');
        if (!form || !form.querySelector("button[type=submit]")) break;
        if (needsSecondPress(form)) break;
        form.requestSubmit();
        break;
      }
      case "o":
        focusIn("override");
        break;
      case "e":
        focusIn("escalate");
        break;
      case "i":
        focusIn("request_info");
        break;
      case "?":
        if (help && !help.open) help.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // A high-risk item is accepted with the keyboard only on a second press of "a" within a few
  // seconds; the first press says so next to the button.
  let armed = null;
  function needsSecondPress(form) {
    const article = form.closest("[data-decision]");
    if (!article || article.dataset.risk !== "high") return false;
    const key = article.dataset.decision + ":" + article.dataset.version;
    if (armed && armed.key === key && Date.now() - armed.at < 4000) {
      armed = null;
      return false;
    }
    armed = { key, at: Date.now() };
    let note = form.querySelector("[data-second-press]");
    if (!note) {
      note = document.createElement("p");
      note.className = "msg msg-warning";
      note.setAttribute("role", "alert");
      note.dataset.secondPress = "";
      form.prepend(note);
    }
    note.textContent = "High-risk item: press a again to accept it.";
    return true;
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-review-help]")) {
      document.getElementById("review-shortcuts")?.showModal();
    }
  });

  // An action succeeded: mark its row, then open the next item of the queue.
  document.body.addEventListener("reviewActed", (event) => {
    const detail = event.detail || {};
    const all = rows();
    const index = all.findIndex((r) => String(r.dataset.decision) === String(detail.decision));
    if (index < 0) return;
    if (!detail.moved) return; // assigned or released: the item stays in this queue
    all[index].classList.add("done");
    const next = all.slice(index + 1).find((r) => !r.classList.contains("done"));
    if (next) {
      select(all.indexOf(next));
      open(next);
    }
  });

  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.target === panel()) syncToPanel();
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector("[data-review-queue]")) return;
    document.documentElement.dataset.reviewKeyboard = "on";
    syncToPanel();
    if (current < 0) select(0, { focus: !document.querySelector("#review-panel [data-decision]") });
  });
})();
