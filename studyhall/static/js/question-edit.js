// The question editor: show the fields of the chosen type, and a live preview of the
// question as a teacher will see it. Everything is built with textContent, so nothing
// typed here can run as HTML.
(function () {
  "use strict";
  var form = document.getElementById("question-form");
  var preview = document.getElementById("question-preview");
  if (!form || !preview) { return; }
  var typeSelect = form.querySelector("#type");
  var LETTERS = "ABCDEFGH";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showSections() {
    var type = typeSelect.value;
    form.querySelectorAll(".type-section").forEach(function (section) {
      section.hidden = section.getAttribute("data-types").split(" ").indexOf(type) < 0;
    });
  }

  function options() {
    var list = [];
    form.querySelectorAll("input[data-letter]").forEach(function (input) {
      list.push(input.value.trim());
    });
    while (list.length && !list[list.length - 1]) { list.pop(); }
    return list;
  }

  function choiceList(labels, markers) {
    var ol = el("ol", "q-options");
    labels.forEach(function (label, i) {
      var li = el("li");
      li.appendChild(el("span", "q-letter", markers[i]));
      li.appendChild(el("span", "", label));
      ol.appendChild(li);
    });
    return ol;
  }

  function render() {
    var type = typeSelect.value;
    var stem = form.querySelector("#stem").value;
    preview.replaceChildren();
    var typeLabel = typeSelect.options[typeSelect.selectedIndex].text;
    var meta = el("p", "q-meta");
    meta.appendChild(el("span", "badge", typeLabel));
    preview.appendChild(meta);
    preview.appendChild(el("p", "q-stem", stem));
    if (type === "single" || type === "multiple") {
      var opts = options();
      preview.appendChild(choiceList(opts, LETTERS.slice(0, opts.length).split("")));
    } else if (type === "true_false") {
      preview.appendChild(choiceList([preview.dataset.true, preview.dataset.false], ["√", "×"]));
    } else if (type === "fill_blank") {
      var lines = form.querySelector("#blanks").value.split("\n").filter(function (l) { return l.trim(); });
      var row = el("p");
      for (var i = 0; i < Math.max(lines.length, 1); i++) {
        row.appendChild(el("span", "q-blank", "\u00a0"));
        row.appendChild(document.createTextNode(" "));
      }
      preview.appendChild(row);
    } else {
      var box = el("textarea");
      box.rows = 4;
      box.disabled = true;
      preview.appendChild(box);
    }
  }

  typeSelect.addEventListener("change", function () { showSections(); render(); });
  form.addEventListener("input", render);
  showSections();
  render();
})();
