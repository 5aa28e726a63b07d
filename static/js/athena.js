/* Athena's page behaviour. Every page works without it; this adds charts, auto-submit and copy buttons. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // Deferred scripts run while the state is still "interactive", before the ones after them
  // (the chart library) have run, so wait for DOMContentLoaded unless the page already loaded.
  function onReady(callback) {
    if (document.readyState === "complete") {
      callback();
    } else {
      document.addEventListener("DOMContentLoaded", callback);
    }
  }

  // Forms marked data-autosubmit submit as soon as a select changes, so the button can hide.
  function bindAutosubmit(root) {
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () {
        select.form.requestSubmit();
      });
    });
  }

  // Copy the text of the element named by data-copy-target, and confirm it on the button.
  function bindCopy(root) {
    root.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        if (!target || !navigator.clipboard) {
          return;
        }
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  // Time since data-elapsed-since (ISO 8601), refreshed every second while an execution runs.
  function bindElapsed(root) {
    root.querySelectorAll("[data-elapsed-since]").forEach(function (element) {
      var since = Date.parse(element.getAttribute("data-elapsed-since"));
      if (isNaN(since)) {
        return;
      }
      var update = function () {
        var seconds = Math.max(0, Math.round((Date.now() - since) / 1000));
        element.textContent = seconds + " s elapsed";
      };
      update();
      var timer = window.setInterval(function () {
        if (!document.body.contains(element)) {
          window.clearInterval(timer);
          return;
        }
        update();
      }, 1000);
    });
  }

  var PALETTE = ["#0b5cad", "#1a7f37", "#b42318", "#b7791f", "#6f42c1", "#57606a"];

  // Draw every [data-chart] element from the JSON in the script element it names.
  function drawCharts(root) {
    if (!window.uPlot) {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source || element.getAttribute("data-drawn")) {
        return;
      }
      var chart = JSON.parse(source.textContent);
      var times = chart.labels.map(function (label) {
        return Date.parse(label) / 1000;
      });
      var series = [{}];
      var data = [times];
      chart.series.forEach(function (line, index) {
        var color = line.color || PALETTE[index % PALETTE.length];
        series.push({ label: line.label, stroke: color, fill: color + "22", width: 2 });
        data.push(line.values);
      });
      var width = Math.max(280, element.clientWidth || 400);
      new window.uPlot(
        {
          width: width,
          height: 200,
          series: series,
          axes: [{}, { size: 50 }],
          scales: { x: { time: true } },
          legend: { show: true },
        },
        data,
        element
      );
      element.setAttribute("data-drawn", "true");
    });
  }

  function enhance(root) {
    bindAutosubmit(root);
    bindCopy(root);
    bindElapsed(root);
    drawCharts(root);
  }

  onReady(function () {
    enhance(document);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      enhance(event.target);
    });
  });
})();
