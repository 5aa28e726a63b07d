/* Agent and prompt forms: add tool rows to a Django formset, and list a template's variables as it is typed.
 * Without this script the forms still work: each save shows one more empty row.
 */
(function () {
  "use strict";

  // Clone the formset's empty form, numbered after the existing rows, and bump TOTAL_FORMS.
  function bindFormsetAdd(button) {
    var prefix = button.getAttribute("data-formset-add");
    var rows = document.querySelector('[data-formset-rows="' + prefix + '"]');
    var template = document.querySelector('[data-formset-template="' + prefix + '"]');
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (!rows || !template || !total) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input, select, textarea");
      if (first) {
        first.focus();
      }
    });
  }

  // The first name of each {{ expression }}, {% if name %} and {% for item in name %}, minus loop
  // variables. A hint only: the server parses the template with Jinja when it is saved.
  var PATTERNS = [
    /\{\{-?\s*([A-Za-z_]\w*)/g,
    /\{%-?\s*(?:if|elif)\s+(?:not\s+)?([A-Za-z_]\w*)/g,
    /\{%-?\s*for\s+[\w\s,]+?\s+in\s+([A-Za-z_]\w*)/g,
  ];
  var LOOP_TARGETS = /\{%-?\s*for\s+([\w\s,]+?)\s+in\s/g;

  function detectVariables(text) {
    var names = [];
    var loopNames = ["loop"];
    var match;
    while ((match = LOOP_TARGETS.exec(text)) !== null) {
      match[1].split(",").forEach(function (name) {
        loopNames.push(name.trim());
      });
    }
    PATTERNS.forEach(function (pattern) {
      pattern.lastIndex = 0;
      while ((match = pattern.exec(text)) !== null) {
        var name = match[1];
        if (loopNames.indexOf(name) === -1 && names.indexOf(name) === -1 && name !== "true" && name !== "false") {
          names.push(name);
        }
      }
    });
    return names.sort();
  }

  function bindVariableDetection(textarea) {
    var output = document.getElementById(textarea.getAttribute("data-detect-variables"));
    if (!output) {
      return;
    }
    var update = function () {
      var names = detectVariables(textarea.value);
      output.textContent = names.length ? names.join(", ") : "none";
    };
    textarea.addEventListener("input", update);
    update();
  }

  function start() {
    document.querySelectorAll("[data-formset-add]").forEach(bindFormsetAdd);
    document.querySelectorAll("[data-detect-variables]").forEach(bindVariableDetection);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
