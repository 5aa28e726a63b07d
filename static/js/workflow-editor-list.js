/* The workflow list: confirm before deleting, and import an Athena or n8n file with its report. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  var section = document.getElementById("workflow-import");
  var forms = window.AthenaWorkflowForms;
  if (!section || !forms) {
    return;
  }
  var el = forms.element;
  var input = document.getElementById("import-file");
  var button = document.getElementById("import-submit");
  var result = document.getElementById("import-result");

  input.addEventListener("change", function () {
    button.disabled = !input.files.length;
  });

  function fail(text) {
    result.textContent = "";
    result.appendChild(el("p", { class: "alert alert-error", role: "alert", text: text }));
    button.disabled = false;
  }

  button.addEventListener("click", function () {
    var file = input.files[0];
    if (!file) {
      return;
    }
    button.disabled = true;
    result.textContent = "Importing…";
    file.text().then(function (text) {
      var documentValue;
      try {
        documentValue = JSON.parse(text);
      } catch (error) {
        fail(file.name + " is not valid JSON (" + error.message + "). Export the workflow again and retry.");
        return;
      }
      fetch(section.getAttribute("data-import-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": section.getAttribute("data-csrf"),
          "X-Workspace": section.getAttribute("data-workspace"),
        },
        body: JSON.stringify(documentValue),
      })
        .then(function (response) {
          return response.text().then(function (body) {
            var json = {};
            try {
              json = body ? JSON.parse(body) : {};
            } catch (error) {
              json = {};
            }
            return { status: response.status, body: json };
          });
        })
        .then(function (response) {
          if (response.status === 404 && !response.body.code) {
            fail("Importing is not available on this server yet.");
            return;
          }
          if (response.status >= 400) {
            var details = Object.keys(response.body.errors || {}).map(function (key) {
              return key + ": " + response.body.errors[key].join(" ");
            });
            fail((response.body.message || "The import failed with status " + response.status + ".") + " " + details.join(" "));
            return;
          }
          showReport(response.body);
        }, function () {
          fail("Athena could not be reached. Check your connection and try again.");
        });
    });
  });

  function showReport(body) {
    var data = body.data || {};
    var workflow = data.workflow || data;
    var report = data.report || body.report || (body.meta || {}).report || null;
    result.textContent = "";
    result.appendChild(
      el("p", { class: "message message-success", role: "status", "data-testid": "import-done" }, [
        (workflow.name || "The workflow") + " was imported. ",
        workflow.id ? el("a", { href: "/workflows/" + workflow.id + "/", text: "Open it in the editor" }) : null,
      ])
    );
    if (report) {
      result.appendChild(el("h3", { text: "Import report" }));
      result.appendChild(el("div", { "data-testid": "import-report" }, [forms.renderTree(report)]));
    }
    button.disabled = false;
  }
})();
