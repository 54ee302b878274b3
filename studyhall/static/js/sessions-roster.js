// The roster: one tap marks one person without reloading the page. Each row is a plain
// form (it works without this script); here the tap is sent with fetch, the row and the
// figures on top change at once, and a failure says so instead of losing the tap.
(function () {
  "use strict";
  var message = document.getElementById("roster-message");
  var summary = document.getElementById("roster-summary");

  function say(text, isError) {
    if (!message) { return; }
    message.textContent = text || "";
    message.classList.toggle("error", !!isError);
  }

  function showCounts(counts) {
    if (!summary || !counts) { return; }
    counts.attended = counts.present + counts.late;
    Object.keys(counts).forEach(function (key) {
      var cell = summary.querySelector('[data-count="' + key + '"]');
      if (cell) { cell.textContent = counts[key]; }
    });
    var box = summary.querySelector('[data-box="unmarked"]');
    if (box) { box.classList.toggle("todo", counts.unmarked > 0); }
  }

  function showRow(row, status) {
    row.setAttribute("data-status", status);
    row.querySelectorAll("button.mark").forEach(function (button) {
      button.setAttribute("aria-pressed", button.value === status ? "true" : "false");
    });
  }

  document.querySelectorAll("form[data-roster]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      var row = form.closest(".roster-row");
      var before = row.getAttribute("data-status");
      var data = new FormData(form);
      data.set("status", button.value);
      showRow(row, button.value);  // at once: the request confirms or undoes it
      row.classList.add("saving");
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: {"X-Requested-With": "fetch", "Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        row.classList.remove("saving");
        if (!result.ok) {
          showRow(row, before);
          say(result.body.error || "", true);
          return;
        }
        showRow(row, result.body.status);
        showCounts(result.body.counts);
        say(row.querySelector(".name").textContent + " · " + result.body.label, false);
      }).catch(function () {
        row.classList.remove("saving");
        showRow(row, before);
        say(message ? message.getAttribute("data-network") : "", true);
      });
    });
  });
})();
