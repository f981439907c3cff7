// Polls a background report job and shows the download link when the PDF is ready.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-job-status]");
    if (!box) { return; }
    var bar = box.querySelector("[data-job-progress]");
    var text = box.querySelector("[data-job-text]");
    var link = box.querySelector("[data-job-download]");
    var label = function (name) { return box.querySelector("[data-text-" + name + "]").textContent; };
    function poll() {
      fetch(box.getAttribute("data-job-status"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (job) {
          if (job.total) { bar.max = job.total; bar.value = job.progress; }
          if (job.status === "done") {
            bar.value = bar.max;
            text.textContent = label("ready");
            link.classList.remove("is-hidden");
            link.focus();
          } else if (job.status === "failed") {
            text.textContent = label("failed") + (job.error ? " " + job.error : "");
          } else {
            text.textContent = label("running") + ": " + job.progress + " / " + (job.total || "…");
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  });
}());
