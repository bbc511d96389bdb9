// Review queue keyboard: j/k move, Enter opens, a accept (twice for a high-risk item), o override,
// e escalate, i request info, u undo, ? help, Ctrl+Enter sends the form being typed in, Esc
// closes the panel shown over the queue (tablets). After an action that takes the item out of
// the queue, the next item opens. Actions act only on the item on screen: a panel out of view is
// brought into view first, and the key does nothing else. Every page works without this file.
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

  const article = () => document.querySelector("#review-panel article[data-decision]");
  // Narrow screens show the panel over the queue (review.css); j/k then open the item they reach.
  const overlaid = () => article() && getComputedStyle(panel()).position === "fixed";

  function onScreen(element) {
    const box = element.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight && box.height > 0;
  }

  // The item the keys act on must be the one the reviewer sees; otherwise show it and stop.
  function itemOnScreen() {
    const item = article();
    if (!item) return false;
    if (onScreen(item)) return true;
    item.scrollIntoView({ block: "start" });
    item.focus({ preventScroll: true });
    return false;
  }

  let shown = null;
  let pending = null;
  function showPanel() {
    const item = article();
    if (item) item.dataset.ready = "1";
    if (pending && item) {
      const key = pending;
      pending = null;
      setTimeout(() => document.body.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true })));
    }
    if (!item || item.dataset.decision === shown) return;
    shown = item.dataset.decision;
    if (overlaid()) panel().scrollTop = 0;
    else if (!onScreen(item)) item.scrollIntoView({ block: "start" });
    if (!panel().contains(document.activeElement) || document.activeElement === document.body) {
      item.focus({ preventScroll: true });
    }
  }

  function closePanel(href) {
    panel().replaceChildren();
    shown = null;
    if (href) history.pushState({}, "", href);
    select(current);
  }

  function armUndo() {
    const form = document.querySelector("#review-undo [data-undo]");
    if (!form || form.dataset.armed) return;
    form.dataset.armed = "1";
    setTimeout(() => form.remove(), Number(form.dataset.seconds || 0) * 1000);
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
    const acts = ["a", "o", "e", "i"].includes(event.key);
    if (acts && article() && !article().dataset.ready) {
      // htmx wires a swapped panel's forms when it settles (~20 ms later); a key pressed in
      // between would post the form as a plain page. Replay it once the panel is ready.
      pending = event.key;
      event.preventDefault();
      return;
    }
    if (acts && !itemOnScreen()) {
      event.preventDefault();
      return;
    }
    switch (event.key) {
      case "j":
      case "k":
        if (overlaid()) open(select(current + (event.key === "j" ? 1 : -1)));
        else select(current + (event.key === "j" ? 1 : -1));
        break;
      case "Escape":
        if (!overlaid() || (help && help.open)) return;
        closePanel(document.querySelector("#review-panel [data-panel-close]")?.href);
        break;
      case "u": {
        const undo = document.querySelector("#review-undo form[data-undo]");
        if (!undo) return;
        undo.requestSubmit();
        break;
      }
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
    const close = event.target.closest("[data-panel-close]");
    if (close && overlaid()) {
      event.preventDefault();
      closePanel(close.href);
    }
  });

  // An action succeeded: mark its row, then open the next item of the queue.
  document.body.addEventListener("reviewActed", (event) => {
    const detail = event.detail || {};
    const all = rows();
    const index = all.findIndex((r) => String(r.dataset.decision) === String(detail.decision));
    if (index < 0) return;
    if (detail.action === "undo") {
      // The item is back where it was, and its panel is on screen.
      all[index].classList.remove("done");
      select(index, { focus: false });
      return;
    }
    if (!detail.moved) return; // assigned or released: the item stays in this queue
    all[index].classList.add("done");
    const next = all.slice(index + 1).find((r) => !r.classList.contains("done"));
    if (next) {
      select(all.indexOf(next));
      open(next);
    }
  });

  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.target === panel()) {
      syncToPanel();
      showPanel();
    }
    armUndo();
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector("[data-review-queue]")) return;
    document.documentElement.dataset.reviewKeyboard = "on";
    syncToPanel();
    if (current < 0) select(0, { focus: !document.querySelector("#review-panel [data-decision]") });
    showPanel();
    armUndo();
  });
})();
