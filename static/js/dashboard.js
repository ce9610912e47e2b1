// Privacy Desk dashboard: small progressive enhancements. Every page works
// without this file.
(function () {
  "use strict";

  // Refresh an open request's page, but never while someone is working on
  // it: a focused field, typed input or an open action would be lost.
  var dirty = false;
  document.addEventListener("input", function () { dirty = true; });
  document.addEventListener("change", function () { dirty = true; });
  var busy = function () {
    var active = document.activeElement;
    var typing = active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    return dirty || typing || document.querySelector("details.action[open]");
  };
  var seconds = parseInt(document.body.dataset.refresh || "", 10);
  if (seconds > 0) {
    window.setInterval(function () {
      if (!document.hidden && !busy()) {
        window.location.reload();
      }
    }, seconds * 1000);
  }

  // While tasks are still moving, refetch this page more often and swap in
  // the fresh "Work in each store" section only (its progress and statuses).
  // Opened attempt lists stay open; it stops once every task has ended.
  var swapLive = function () {
    var current = document.getElementById("tasks");
    var every = current && parseInt(current.dataset.live || "", 10);
    if (!(every > 0) || !window.fetch || !window.DOMParser) {
      return;
    }
    window.setTimeout(function () {
      if (document.hidden || busy()) {
        swapLive();
        return;
      }
      window.fetch(window.location.href, {
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        var fresh = html && new DOMParser()
          .parseFromString(html, "text/html").getElementById("tasks");
        if (fresh && !busy()) {
          var open = [];
          current.querySelectorAll("details[open][id]").forEach(function (d) {
            open.push(d.id);
          });
          current.replaceWith(fresh);
          open.forEach(function (id) {
            var details = document.getElementById(id);
            if (details) {
              details.open = true;
            }
          });
        }
        swapLive();
      }).catch(swapLive);
    }, every * 1000);
  };
  swapLive();

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
  // "Test connection" on a connector form: ask in the background and show
  // the answer in place, so what was typed (the secrets too, which a page
  // never sends back) stays in the form. Without this the button posts the
  // form and the page comes back with the answer, the secrets blank.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!form.matches("form[data-connection-test]") || !button ||
        button.value !== "test" || !window.fetch || !window.DOMParser) {
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    data.set("action", "test");
    var result = document.getElementById("connection-test");
    button.disabled = true;
    result.textContent = "Testing the connection…";
    window.fetch(window.location.href, {
      method: "POST", body: data, credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (html) {
        return { status: response.status, html: html };
      });
    }).then(function (answer) {
      var page = new DOMParser().parseFromString(answer.html, "text/html");
      var fresh = page.querySelector("form[data-connection-test]");
      if (answer.status === 400 && fresh) {
        form.replaceWith(fresh);  // inputs with errors: show them marked
        return;
      }
      var freshResult = page.getElementById("connection-test");
      if (freshResult) {
        result.replaceWith(freshResult);
      }
    }).catch(function () {
      result.textContent = "The test could not be sent; try again.";
    }).then(function () {
      button.disabled = false;
    });
  });
})();
