// 汇报数据: copy a sentence (or all of them) with one tap. No library: the Clipboard API
// where the page is secure, else a hidden text area and the copy command.
(function () {
  "use strict";
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var ids = button.getAttribute("data-copy-target").split(" ");
      var text = ids.map(function (id) {
        var node = document.getElementById(id);
        return node ? node.textContent.trim() : "";
      }).join("\n");
      var label = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", label);
      var done = function () {
        button.textContent = button.getAttribute("data-copied");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
      } else {
        fallback(text);
        done();
      }
    });
  });
})();
