// Statistics pages: sortable tables, and charts drawn from the data table beside each
// chart (the table is the source; a reader who prefers numbers reads it, and the chart
// never shows a figure the table does not). Loaded only on the statistics pages, after
// the vendored Chart.js.
(function () {
  "use strict";

  // A figure as written on the page ("92.35", "6.3%", "1,234", "—") as a number; NaN for
  // a dash or text.
  function figure(cell) {
    if (!cell) { return NaN; }
    var text = (cell.getAttribute("data-sort") || cell.textContent || "").trim();
    if (!/\d/.test(text)) { return NaN; }
    return parseFloat(text.replace(/[^0-9.\-]/g, ""));
  }

  // --- sortable tables: a button in each header; a second click reverses ---------------
  function sortTable(table, column, type, button) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var header = button.closest("th");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = a.cells[column], y = b.cells[column];
      var result;
      if (type === "num") {
        var p = figure(x), q = figure(y);
        // Rows without the figure go last either way.
        if (isNaN(p) || isNaN(q)) { return isNaN(p) - isNaN(q); }
        result = p - q;
      } else {
        result = (x.textContent || "").trim().localeCompare((y.textContent || "").trim(), "zh-CN");
      }
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, column) {
      var type = th.getAttribute("data-sort-type");
      if (!type) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortTable(table, column, type, button); });
    });
  });

  // --- charts ----------------------------------------------------------------------
  if (typeof window.Chart === "undefined") { return; }
  var Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#1f2328";
  var ACCENT = "#b3261e";

  function shorten(label, size) {
    return label.length > size ? label.slice(0, size - 1) + "…" : label;
  }

  document.querySelectorAll("figure[data-chart]").forEach(function (box) {
    var table = document.getElementById(box.getAttribute("data-table"));
    var canvas = box.querySelector("canvas");
    if (!table || !canvas) { return; }
    var labelColumn = parseInt(box.getAttribute("data-label-column"), 10);
    var valueColumn = parseInt(box.getAttribute("data-value-column"), 10);
    var limit = parseInt(box.getAttribute("data-limit") || "0", 10);
    var horizontal = box.getAttribute("data-chart") === "hbar";
    var labels = [], values = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (limit && labels.length >= limit) { return; }
      var value = figure(row.cells[valueColumn]);
      labels.push((row.cells[labelColumn].getAttribute("data-label") ||
                   row.cells[labelColumn].textContent).trim());
      values.push(isNaN(value) ? null : value);
    });
    var narrow = window.matchMedia("(max-width: 699px)").matches;
    if (horizontal) {
      // One bar per unit: the box grows with the number of units.
      box.querySelector(".chart-area").style.height = Math.max(160, labels.length * 28 + 60) + "px";
    }
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{
        label: box.getAttribute("data-series"), data: values, backgroundColor: ACCENT,
        maxBarThickness: 28 }] },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false },
                   tooltip: { callbacks: { title: function (items) { return labels[items[0].dataIndex]; } } } },
        scales: horizontal ? {
          x: { beginAtZero: true, suggestedMax: parseFloat(box.getAttribute("data-max") || "0") || undefined },
          y: { ticks: { autoSkip: false, callback: function (v) { return shorten(labels[v], narrow ? 7 : 14); } } }
        } : {
          x: { ticks: { maxRotation: narrow ? 60 : 0, autoSkip: false } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  });
})();

// A big export built in the background: poll its status, then offer the download.
(function () {
  "use strict";
  var box = document.querySelector("[data-export-job]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var state = box.querySelector("[data-export-state]");
  var link = box.querySelector("[data-export-download]");
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (reply) { return reply.json(); })
      .then(function (status) {
        bar.max = status.total || 1;
        bar.value = status.done;
        if (status.state === "done") {
          bar.value = bar.max;
          link.hidden = false;
          window.location.reload();
        } else if (status.state !== "running") {
          window.location.reload();  // failed or interrupted: the page says so
        } else {
          state.textContent = status.done + " / " + status.total;
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  // Only a running job is polled: a failed one's page must not reload forever.
  if (box.hasAttribute("data-export-running")) { window.setTimeout(poll, 1000); }
})();
