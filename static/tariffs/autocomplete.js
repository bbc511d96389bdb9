// Keyboard and click behaviour for tariffs/_code_autocomplete.html. Loaded once per page even
// when several inputs include it; without this file the input is a plain form field.
(() => {
  if (window.tariffCodeAutocomplete) return;
  window.tariffCodeAutocomplete = true;

  const parts = (el) => {
    const box = el.closest("[data-code-autocomplete]");
    return box && { box, input: box.querySelector("input"), list: box.querySelector("[role=listbox]") };
  };
  const options = (list) => [...list.querySelectorAll("[role=option]:not([aria-disabled=true])")];
  const close = ({ input, list }) => {
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const choose = (p, option) => {
    p.input.value = option.dataset.code;
    close(p);
    p.input.dispatchEvent(new Event("change", { bubbles: true }));
    p.input.focus();
  };
  const move = (p, step) => {
    const all = options(p.list);
    if (!all.length) return;
    let index = all.findIndex((o) => o.getAttribute("aria-selected") === "true");
    all.forEach((o) => o.setAttribute("aria-selected", "false"));
    index = (index + step + all.length) % all.length;
    all[index].setAttribute("aria-selected", "true");
    all[index].scrollIntoView({ block: "nearest" });
    p.input.setAttribute("aria-activedescendant", all[index].id);
  };

  document.addEventListener("htmx:afterSwap", (event) => {
    const p = parts(event.target);
    if (p && event.target === p.list) p.input.setAttribute("aria-expanded", options(p.list).length ? "true" : "false");
  });
  document.addEventListener("keydown", (event) => {
    const p = event.target.matches("[data-code-autocomplete] input") && parts(event.target);
    if (!p || !p.list.children.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(p, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      const selected = p.list.querySelector("[aria-selected=true]");
      if (selected) {
        event.preventDefault();
        choose(p, selected);
      }
    } else if (event.key === "Escape") {
      close(p);
    }
  });
  document.addEventListener("click", (event) => {
    const option = event.target.closest("[data-code-autocomplete] [role=option]:not([aria-disabled=true])");
    if (option) choose(parts(option), option);
  });
})();
