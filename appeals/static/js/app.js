// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Ask before destructive or bulk actions: <button data-confirm="...">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // A form that creates something is sent once: later Enter or Space presses while the first
  // submit is on its way are dropped, and its buttons show as busy. The server's one-time token
  // (submission_token) still decides when two submits get through anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-submit-once], form:has(input[name=submission_token])")) { return; }
    if (form.getAttribute("data-submitting") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "1");
    form.setAttribute("aria-busy", "true");
    // Disabled after this event: a button disabled now would drop its own name from the data sent.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });
  // Back to a page left by submitting it (the browser's back-forward cache): usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Move keyboard focus to the first invalid field so a clerk can fix it without the mouse;
    // otherwise to the choice a warning asks for (its checked option, else its first control),
    // else to the warning itself: <div data-autofocus-error tabindex="-1">.
    var invalid = document.querySelector("[aria-invalid=true]");
    var alert = document.querySelector("[data-autofocus-error]");
    if (invalid) {
      invalid.focus();
    } else if (alert) {
      var choice = alert.querySelector("input:checked") || alert.querySelector("input, select, textarea, button");
      (choice || alert).focus();
    }
    // Filters folded on a phone (<details data-filters>, see macros/forms.html): on a wider screen
    // they fit beside the results, so they are shown open and the fold's summary is hidden.
    if (window.matchMedia && window.matchMedia("(min-width: 721px)").matches) {
      document.querySelectorAll("details[data-filters]").forEach(function (fold) {
        fold.open = true;
        fold.classList.add("filters-static");
      });
    }
    // On a phone the main menu is one row that scrolls sideways: keep the current page's item and
    // the item a keyboard user moves to in view (Chromium leaves a half-visible item where it is).
    var menuRow = document.querySelector(".mainnav ul");
    if (menuRow && menuRow.scrollWidth > menuRow.clientWidth) {
      var current = menuRow.querySelector("[aria-current]");
      if (current) { menuRow.scrollLeft = current.offsetLeft - menuRow.offsetLeft - 16; }
      menuRow.addEventListener("focusin", function (event) {
        event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
      });
    }
    // A table wider than a phone scrolls inside itself; one with nothing to focus inside takes the
    // focus itself, so a keyboard user can scroll it too (axe: scrollable-region-focusable).
    document.querySelectorAll("main table.table, main .table-wrap, main .directive-text").forEach(function (region) {
      if (region.scrollWidth > region.clientWidth + 1 && !region.querySelector("a, button, input, select, textarea")) {
        region.setAttribute("tabindex", "0");
      }
    });
    // Auto-submit filter selects marked data-autosubmit.
    document.querySelectorAll("[data-autosubmit]").forEach(function (element) {
      element.addEventListener("change", function () { element.form.submit(); });
    });
    // "Select all" checkbox for bulk actions: <input type=checkbox data-check-all="name">.
    document.querySelectorAll("[data-check-all]").forEach(function (master) {
      master.addEventListener("change", function () {
        var name = master.getAttribute("data-check-all");
        document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
          box.checked = master.checked;
        });
      });
    });
    // Show or hide parts of a form that depend on a select: data-show-when="field=value1,value2".
    document.querySelectorAll("[data-show-when]").forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var field = document.getElementById(rule[0]);
      if (!field) { return; }
      var values = rule[1].split(",");
      var update = function () { block.hidden = values.indexOf(field.value) === -1; };
      field.addEventListener("change", update);
      update();
    });
    // A select whose options belong to a choice made in another select (settlements of a district):
    // <select data-narrowed-by="district"> with <option data-district="7">. Other options are hidden,
    // and a choice outside the new parent is cleared rather than left to match nothing.
    document.querySelectorAll("select[data-narrowed-by]").forEach(function (child) {
      var key = child.getAttribute("data-narrowed-by");
      var parent = document.getElementById(key);
      if (!parent) { return; }
      var narrow = function () {
        Array.prototype.forEach.call(child.options, function (option) {
          var owner = option.getAttribute("data-" + key);
          option.hidden = parent.value !== "" && owner !== null && owner !== parent.value;
        });
        if (child.selectedIndex > 0 && child.options[child.selectedIndex].hidden) {
          child.value = "";
        }
      };
      parent.addEventListener("change", narrow);
      narrow();
    });
  });
})();
