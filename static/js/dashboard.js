// Privacy Desk dashboard: small progressive enhancements. Every page works
// without this file.
(function () {
  "use strict";

  // Refresh an open request's page, but never while someone is working on
  // it: a focused field, typed input or an open action would be lost.
  var seconds = parseInt(document.body.dataset.refresh || "", 10);
  if (seconds > 0) {
    var dirty = false;
    document.addEventListener("input", function () { dirty = true; });
    document.addEventListener("change", function () { dirty = true; });
    var busy = function () {
      var active = document.activeElement;
      var typing = active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
      return dirty || typing || document.querySelector("details.action[open]");
    };
    window.setInterval(function () {
      if (!document.hidden && !busy()) {
        window.location.reload();
      }
    }, seconds * 1000);
  }

  // "Copy" next to a one-time token.
  document.querySelectorAll(".js-copy").forEach(function (button) {
    var target = document.getElementById(button.dataset.copyTarget);
    if (!target || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.value).then(function () {
        button.textContent = "Copied";
      });
    });
  });
})();
