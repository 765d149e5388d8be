// o2c-gateway UI: keyboard help only; every page works without this file.
// "/" moves the focus to the page's first search field (as on many sites).
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  var target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) {
    return;
  }
  var field = document.querySelector("[data-search-focus]");
  if (field) {
    event.preventDefault();
    field.focus();
  }
});
