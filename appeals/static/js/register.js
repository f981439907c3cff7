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

    // Choosing a session fills the received date and time with the session's.
    var day = document.getElementById("received_date");
    var clock = document.getElementById("received_time");
    session.addEventListener("change", function () {
      var option = session.options[session.selectedIndex];
      if (!option || !option.getAttribute("data-date")) { return; }
      if (day) { day.value = option.getAttribute("data-date"); }
      if (clock) { clock.value = option.getAttribute("data-time"); }
    });

    // Type-ahead search over the sessions: hide the options (and days) that do not match.
    var searchBox = document.querySelector("[data-session-search]");
    var search = document.getElementById("session-search");
    if (searchBox && search) {
      searchBox.hidden = false;
      search.addEventListener("input", function () {
        var words = search.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
        var first = null;
        Array.prototype.forEach.call(session.querySelectorAll("option"), function (option) {
          if (!option.value) { return; }
          var text = option.text.toLocaleLowerCase();
          var shown = words.every(function (word) { return text.indexOf(word) !== -1; });
          option.hidden = !shown;
          if (shown && !first) { first = option; }
        });
        Array.prototype.forEach.call(session.querySelectorAll("optgroup"), function (group) {
          group.hidden = !group.querySelector("option:not([hidden])");
        });
        if (first && words.length) {
          session.value = first.value;
          session.dispatchEvent(new Event("change"));
        }
      });
    }
  });

  // The summary's counter: how much of its limit is used, and a warning when a paste was cut.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
      var field = document.getElementById(counter.getAttribute("data-counter-for"));
      if (!field || !field.maxLength || field.maxLength < 0) { return; }
      var max = field.maxLength;
      var update = function () {
        var used = field.value.length;
        counter.hidden = false;
        var full = used >= max;
        counter.textContent = full ? counter.getAttribute("data-counter-full").replace("{max}", max)
          : counter.getAttribute("data-counter-text").replace("{used}", used).replace("{max}", max);
        counter.classList.toggle("error", full);
      };
      field.addEventListener("input", update);
      update();
    });
  });
})();
