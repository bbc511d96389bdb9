// Small progressive enhancements; every page works without this file.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-tenant-switch]");
  if (select && select.value) window.location.href = select.value;
});
