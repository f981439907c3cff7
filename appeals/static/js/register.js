// Registration form: keyboard shortcuts and the hosts of the chosen reception session.
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("[data-register-form]");
    if (!form || !(event.ctrlKey || event.metaKey)) { return; }
    // Ctrl+Enter: save and open an empty form for the next applicant.
    if (event.key === "Enter") {
      var next = form.querySelector("[data-shortcut='ctrl+enter']") || form.querySelector("[type=submit]");
      if (next) { event.preventDefault(); next.click(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var session = document.getElementById("session_id");
    var host = document.getElementById("host_id");
    if (!session || !host) { return; }
    var filterHosts = function () {
      var option = session.options[session.selectedIndex];
      var allowed = option && option.getAttribute("data-hosts") ? option.getAttribute("data-hosts").split(",") : null;
      Array.prototype.forEach.call(host.options, function (hostOption) {
        hostOption.hidden = Boolean(allowed) && hostOption.value !== "" && allowed.indexOf(hostOption.value) === -1;
      });
      if (allowed && allowed.length === 1) {
        host.value = allowed[0];
      } else if (allowed && allowed.indexOf(host.value) === -1) {
        host.value = "";
      }
    };
    session.addEventListener("change", filterHosts);
    filterHosts();
  });
})();
