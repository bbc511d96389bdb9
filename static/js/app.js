// Small progressive enhancements; every page works without this file.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-tenant-switch]");
  if (select && select.value) window.location.href = select.value;
});

// "Select page": tick or untick every checkbox of the named group.
document.addEventListener("change", (event) => {
  const toggle = event.target.closest("[data-select-all]");
  if (!toggle) return;
  const name = toggle.dataset.selectAll;
  toggle.form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
    box.checked = toggle.checked;
  });
});

// A "Print" button (the certificate page).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
