// StudyHall: small behaviours for every page. Loaded as a file (the CSP allows no inline
// script).
(function () {
  "use strict";
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("nav");
  document.documentElement.classList.add("js");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // The menu's groups on a wide screen: one open at a time; a click elsewhere or Escape
  // closes it (Escape gives the focus back to its button).
  var groups = document.querySelectorAll(".nav-group");
  function closeGroups(except) {
    groups.forEach(function (group) {
      if (group !== except && group.classList.contains("open")) {
        group.classList.remove("open");
        group.querySelector(".nav-group-toggle").setAttribute("aria-expanded", "false");
      }
    });
  }
  groups.forEach(function (group) {
    var button = group.querySelector(".nav-group-toggle");
    button.addEventListener("click", function () {
      var open = group.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      closeGroups(group);
    });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest(".nav-group")) { closeGroups(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.querySelector(".nav-group.open");
    if (open) {
      closeGroups(null);
      open.querySelector(".nav-group-toggle").focus();
    }
  });
  // Buttons that change something ask first when they carry data-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // A form sent back with errors: the focus goes to the first field in error, whose
  // description reads its message.
  var invalid = document.querySelector('[aria-invalid="true"], fieldset[data-invalid] input');
  if (invalid) { invalid.focus(); }
  // Print buttons (initial passwords).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // Filters that apply as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
