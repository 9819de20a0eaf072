// Follows a report's generation job without reloading the page; reloads once it has ended.
// Without JavaScript the page refreshes itself (<noscript><meta http-equiv="refresh">).
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) return;
  var bar = box.querySelector("[data-progress]");
  var percent = box.querySelector("[data-percent]");
  var stage = box.querySelector("[data-stage]");
  var status = box.querySelector("[data-status]");
  var INTERVAL_MS = 1000;

  function poll() {
    fetch(box.getAttribute("data-job-status"), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (state) {
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        percent.textContent = state.percent + "%";
        stage.textContent = state.stage_label;
        status.textContent = state.status_label;
        if (state.active) {
          window.setTimeout(poll, INTERVAL_MS);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL_MS * 3);
      });
  }
  window.setTimeout(poll, INTERVAL_MS);
})();
