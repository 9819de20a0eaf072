/* LoyaltyLab progressive enhancement: every page works without this file. */
(function () {
  "use strict";

  // After a failed submit, move focus to the error summary so screen readers announce it and
  // keyboard users land on the list of links to the fields.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  // A link in the error summary focuses its field (not just scrolls), keeping the label in view.
  function linkErrorSummary() {
    document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) {
          return;
        }
        event.preventDefault();
        var label = document.querySelector("label[for='" + target.id + "']");
        (label || target).scrollIntoView({ block: "start" });
        target.focus({ preventScroll: true });
      });
    });
  }

  // Destructive forms carry their question in data-confirm (already translated by the server).
  function confirmDestructive() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  // Copy buttons are hidden until JS can make them work.
  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      var label = button.textContent;
      var status = document.createElement("span");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      button.after(status);
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () {
          button.textContent = button.getAttribute("data-copied") || label;
          status.textContent = button.textContent;
          window.setTimeout(function () {
            button.textContent = label;
            status.textContent = "";
          }, 2000);
        };
        source.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(done, function () {
            document.execCommand("copy");
            done();
          });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
    // Clicking into a read-only link selects all of it, ready to copy by hand.
    document.querySelectorAll("input.copy[readonly]").forEach(function (input) {
      input.addEventListener("focus", function () {
        input.select();
      });
    });
  }

  // Guard against double submits (a second click while the first request is under way).
  function singleSubmit() {
    document.addEventListener("submit", function (event) {
      if (event.defaultPrevented) {
        return;
      }
      var form = event.target;
      if (form.dataset.submitting === "true") {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "true";
      window.setTimeout(function () {
        delete form.dataset.submitting;
      }, 5000);
    });
  }

  // A "select all" box (data-select-all="<name>") ticks the form's boxes of that name; hidden
  // until JS can make it work, and kept in step when single boxes change.
  function selectAll() {
    document.querySelectorAll("input[data-select-all]").forEach(function (all) {
      var boxes = all.form.querySelectorAll(
        "input[type=checkbox][name='" + all.getAttribute("data-select-all") + "']"
      );
      var sync = function () {
        var ticked = Array.prototype.filter.call(boxes, function (box) {
          return box.checked;
        }).length;
        all.checked = ticked === boxes.length && ticked > 0;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      };
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) {
          box.checked = all.checked;
        });
      });
      boxes.forEach(function (box) {
        box.addEventListener("change", sync);
      });
      sync();
    });
  }

  function start() {
    focusErrorSummary();
    linkErrorSummary();
    copyButtons();
    confirmDestructive();
    singleSubmit();
    selectAll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
