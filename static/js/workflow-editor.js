/* The workflow canvas editor. The graph (nodes, edges, variables) in `state` is the source of
   truth; Drawflow draws it and reports drags and connections, which are written back into the
   graph. Undo and redo restore snapshots of the graph and draw it again. */
(function () {
  "use strict";

  var forms = window.AthenaWorkflowForms;
  var el = forms.element;
  var root = document.getElementById("workflow-editor");
  var dataElement = document.getElementById("workflow-editor-data");
  if (!root || !dataElement || !window.Drawflow || !forms) {
    return;
  }
  var config = JSON.parse(dataElement.textContent);
  var catalogue = {};
  config.catalogue.forEach(function (item) {
    catalogue[item.type] = item;
  });
  var canWrite = config.can_write;
  var HISTORY_LIMIT = 100;
  var POLL_MS = 1000;
  var POLL_LIMIT_MS = 120000;

  var state = {
    workflow: config.workflow,
    nodes: clone(config.workflow.nodes),
    edges: clone(config.workflow.edges),
    variables: clone(config.workflow.variables || {}),
    selected: null,
    errors: {},
    runs: {},
    pinned: {},
    testInputs: {},
  };
  var history = { undo: [], redo: [] };
  var savedSnapshot = snapshot();
  var clipboard = "";
  var drawing = false;
  var dfToNode = {};
  var nodeToDf = {};

  function clone(value) {
    return JSON.parse(JSON.stringify(value === undefined ? null : value));
  }

  function snapshot() {
    return JSON.stringify({ nodes: state.nodes, edges: state.edges, variables: state.variables });
  }

  function restore(text) {
    var graph = JSON.parse(text);
    state.nodes = graph.nodes;
    state.edges = graph.edges;
    state.variables = graph.variables;
  }

  function findNode(nodeId) {
    for (var index = 0; index < state.nodes.length; index++) {
      if (state.nodes[index].id === nodeId) {
        return state.nodes[index];
      }
    }
    return null;
  }

  // The output handles of a node, as workflows/validation.py computes them.
  function handlesOf(node) {
    var kind = catalogue[node.type];
    var handles = kind ? kind.handles.slice() : ["main"];
    if (node.type === "switch") {
      var cases = Array.isArray((node.parameters || {}).cases) ? node.parameters.cases : [];
      handles = cases
        .filter(function (item) {
          return item && typeof item.handle === "string";
        })
        .map(function (item) {
          return item.handle;
        })
        .concat(["default"]);
    }
    if (node.on_error === "continue") {
      handles.push("error");
    }
    return handles;
  }

  // --- messages and API ----------------------------------------------------------

  var messageBox = document.getElementById("wf-message");

  function say(text, kind, link) {
    messageBox.textContent = text;
    messageBox.className = "wf-message message message-" + (kind || "success");
    messageBox.setAttribute("role", kind === "error" ? "alert" : "status");
    if (link) {
      messageBox.appendChild(document.createTextNode(" "));
      messageBox.appendChild(el("a", { href: link.href, text: link.text }));
    }
    messageBox.hidden = false;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json", "X-CSRFToken": root.getAttribute("data-csrf") };
    headers["X-Workspace"] = root.getAttribute("data-workspace");
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(config.urls.api + path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch (error) {
            json = null;
          }
          return { status: response.status, ok: response.ok, body: json || {} };
        });
      },
      function () {
        return { status: 0, ok: false, body: {} };
      }
    );
  }

  function failure(result, action) {
    if (result.status === 0) {
      return action + " failed: Athena could not be reached. Check your connection and try again.";
    }
    if (result.status === 404 && !result.body.code) {
      return action + " is not available on this server yet.";
    }
    if (result.status === 403) {
      return action + " failed: your role does not allow it. Ask a workspace admin.";
    }
    var text = result.body.message || "Athena answered with status " + result.status + ".";
    return action + " failed: " + text;
  }

  // --- history -------------------------------------------------------------------

  var buttons = {};
  root.querySelectorAll("[data-action]").forEach(function (button) {
    var name = button.getAttribute("data-action");
    buttons[name] = buttons[name] || [];
    buttons[name].push(button);
  });

  function setEnabled(name, enabled) {
    (buttons[name] || []).forEach(function (button) {
      button.disabled = !enabled;
    });
  }

  function refreshStatus() {
    setEnabled("undo", history.undo.length > 0);
    setEnabled("redo", history.redo.length > 0);
    var dirty = isDirty();
    var label = document.getElementById("wf-dirty");
    label.textContent = dirty ? "Unsaved changes" : "Saved";
    root.setAttribute("data-dirty", dirty ? "true" : "false");
    refreshJson();
  }

  function isDirty() {
    var nameInput = document.getElementById("wf-name");
    var active = document.getElementById("wf-active");
    return (
      snapshot() !== savedSnapshot ||
      nameInput.value !== state.workflow.name ||
      (active !== null && active.checked !== state.workflow.active)
    );
  }

  // Record the graph as it was before `mutate` ran, so undo can go back to it.
  function change(mutate, options) {
    var before = snapshot();
    mutate();
    if (snapshot() === before) {
      return;
    }
    history.undo.push(before);
    if (history.undo.length > HISTORY_LIMIT) {
      history.undo.shift();
    }
    history.redo = [];
    if (options && options.redraw) {
      draw();
    }
    refreshStatus();
    scheduleValidation();
  }

  function undo() {
    if (!history.undo.length) {
      return;
    }
    history.redo.push(snapshot());
    restore(history.undo.pop());
    afterRestore();
  }

  function redo() {
    if (!history.redo.length) {
      return;
    }
    history.undo.push(snapshot());
    restore(history.redo.pop());
    afterRestore();
  }

  function afterRestore() {
    if (state.selected && !findNode(state.selected)) {
      state.selected = null;
    }
    draw();
    showNodePanel();
    refreshStatus();
    scheduleValidation();
  }

  // --- drawing -------------------------------------------------------------------

  var canvas = document.getElementById("wf-canvas");
  var editor = new window.Drawflow(canvas);
  editor.reroute = false;
  editor.editor_mode = canWrite ? "edit" : "fixed";
  editor.start();

  function nodeHtml(node) {
    return (
      '<div class="wf-node-body">' +
      '<div class="wf-node-title">' +
      forms.escapeHtml(node.name || node.id) +
      "</div>" +
      '<div class="wf-node-type">' +
      forms.escapeHtml(node.type) +
      (node.disabled ? " · disabled" : "") +
      "</div>" +
      '<ul class="wf-node-errors"></ul>' +
      '<div class="wf-node-run"></div>' +
      "</div>"
    );
  }

  function nodeElement(nodeId) {
    var dfId = nodeToDf[nodeId];
    return dfId === undefined ? null : document.getElementById("node-" + dfId);
  }

  function draw() {
    drawing = true;
    editor.clear();
    dfToNode = {};
    nodeToDf = {};
    state.nodes.forEach(function (node) {
      var kind = catalogue[node.type];
      var handles = handlesOf(node);
      var position = node.position || { x: 0, y: 0 };
      var classes = "wf-node wf-type-" + node.type.replace(/[^A-Za-z0-9_-]/g, "-");
      if (handles.length > 1) {
        classes += " wf-multi-output";
      }
      var dfId = editor.addNode(
        node.type,
        kind && kind.is_trigger ? 0 : 1,
        handles.length,
        position.x,
        position.y,
        classes,
        {},
        nodeHtml(node)
      );
      dfToNode[dfId] = node.id;
      nodeToDf[node.id] = dfId;
      var element = document.getElementById("node-" + dfId);
      element.setAttribute("data-node-id", node.id);
      handles.forEach(function (handle, index) {
        var output = element.querySelector(".outputs .output_" + (index + 1));
        if (output) {
          output.setAttribute("data-handle", handle);
          output.setAttribute("title", "Output " + handle);
        }
      });
    });
    state.edges.forEach(function (edge) {
      var source = findNode(edge.source);
      if (!source || nodeToDf[edge.target] === undefined) {
        return;
      }
      var index = handlesOf(source).indexOf(edge.source_handle || "main");
      if (index === -1) {
        return;
      }
      editor.addConnection(nodeToDf[edge.source], nodeToDf[edge.target], "output_" + (index + 1), "input_1");
    });
    drawing = false;
    showErrors();
    showRunStatuses();
    markSelected();
  }

  function markSelected() {
    canvas.querySelectorAll(".drawflow-node.wf-selected").forEach(function (element) {
      element.classList.remove("wf-selected");
    });
    var element = state.selected ? nodeElement(state.selected) : null;
    if (element) {
      element.classList.add("wf-selected");
    }
  }

  function handleName(nodeId, outputClass) {
    var node = findNode(nodeId);
    var index = parseInt(String(outputClass).replace("output_", ""), 10) - 1;
    return node ? handlesOf(node)[index] : undefined;
  }

  editor.on("nodeMoved", function (dfId) {
    var node = findNode(dfToNode[dfId]);
    var data = editor.getNodeFromId(dfId);
    if (!node || !data) {
      return;
    }
    change(function () {
      node.position = { x: Math.round(data.pos_x), y: Math.round(data.pos_y) };
    });
  });

  editor.on("connectionCreated", function (connection) {
    if (drawing) {
      return;
    }
    var source = dfToNode[connection.output_id];
    var target = dfToNode[connection.input_id];
    var handle = handleName(source, connection.output_class);
    change(function () {
      addEdge(source, target, handle);
    });
  });

  editor.on("connectionRemoved", function (connection) {
    if (drawing) {
      return;
    }
    var source = dfToNode[connection.output_id];
    var target = dfToNode[connection.input_id];
    var handle = handleName(source, connection.output_class);
    change(function () {
      state.edges = state.edges.filter(function (edge) {
        return !(edge.source === source && edge.target === target && (edge.source_handle || "main") === handle);
      });
    });
    showNodePanel();
  });

  editor.on("nodeRemoved", function (dfId) {
    if (drawing) {
      return;
    }
    var nodeId = dfToNode[dfId];
    change(function () {
      removeNode(nodeId);
    });
    if (state.selected === nodeId) {
      state.selected = null;
    }
    showNodePanel();
  });

  editor.on("nodeSelected", function (dfId) {
    selectNode(dfToNode[dfId]);
  });

  // Drawflow ignores clicks on nodes in "fixed" mode, so read-only viewers select them here.
  canvas.addEventListener("click", function (event) {
    if (canWrite) {
      return;
    }
    var element = event.target.closest(".drawflow-node");
    if (element) {
      selectNode(element.getAttribute("data-node-id"));
    }
  });

  function selectNode(nodeId) {
    state.selected = nodeId;
    markSelected();
    showTab("node");
    showNodePanel();
  }

  function addEdge(source, target, handle) {
    var exists = state.edges.some(function (edge) {
      return edge.source === source && edge.target === target && (edge.source_handle || "main") === handle;
    });
    if (exists || !source || !target) {
      return;
    }
    state.edges.push({
      id: "e-" + Math.random().toString(36).slice(2, 12),
      source: source,
      target: target,
      source_handle: handle || "main",
      target_handle: "main",
    });
  }

  function removeNode(nodeId) {
    state.nodes = state.nodes.filter(function (node) {
      return node.id !== nodeId;
    });
    state.edges = state.edges.filter(function (edge) {
      return edge.source !== nodeId && edge.target !== nodeId;
    });
    delete state.pinned[nodeId];
  }

  function newNodeId(type) {
    var base = type.replace(/[^A-Za-z0-9_-]/g, "_");
    var index = 1;
    while (findNode(base + "_" + index)) {
      index += 1;
    }
    return base + "_" + index;
  }

  function defaultName(type) {
    var words = type.replace("trigger.", "").replace(/_/g, " ");
    var name = words.charAt(0).toUpperCase() + words.slice(1);
    var sameName = state.nodes.filter(function (node) {
      return node.name === name || (node.name || "").indexOf(name + " ") === 0;
    }).length;
    return sameName ? name + " " + (sameName + 1) : name;
  }

  function addNode(type, position) {
    var node = {
      id: newNodeId(type),
      type: type,
      name: defaultName(type),
      position: { x: Math.round(position.x), y: Math.round(position.y) },
      parameters: {},
    };
    change(
      function () {
        state.nodes.push(node);
      },
      { redraw: true }
    );
    selectNode(node.id);
    return node;
  }

  // The canvas point at the centre of what is visible, for nodes added without a drop.
  function visibleCentre() {
    var rect = editor.precanvas.getBoundingClientRect();
    var box = canvas.getBoundingClientRect();
    var offset = (state.nodes.length % 5) * 30;
    return {
      x: (box.left + box.width / 3 - rect.left) / editor.zoom + offset,
      y: (box.top + box.height / 3 - rect.top) / editor.zoom + offset,
    };
  }

  // --- palette -------------------------------------------------------------------

  function buildPalette() {
    var list = document.getElementById("wf-palette-list");
    if (!list) {
      return;
    }
    var groups = {};
    config.catalogue.forEach(function (item) {
      if (!groups[item.group]) {
        groups[item.group] = el("ul", { class: "wf-palette-group" });
        list.appendChild(el("h3", { text: item.group }));
        list.appendChild(groups[item.group]);
      }
      var button = el("button", {
        type: "button",
        class: "wf-palette-item",
        draggable: "true",
        "data-node-type": item.type,
        title: item.description,
        text: item.type,
        onclick: function () {
          addNode(item.type, visibleCentre());
        },
        ondragstart: function (event) {
          event.dataTransfer.setData("application/x-athena-node-type", item.type);
          event.dataTransfer.setData("text/plain", item.type);
        },
      });
      groups[item.group].appendChild(el("li", {}, [button]));
    });
  }

  canvas.addEventListener("dragover", function (event) {
    if (canWrite) {
      event.preventDefault();
    }
  });
  canvas.addEventListener("drop", function (event) {
    event.preventDefault();
    var type = event.dataTransfer.getData("application/x-athena-node-type") || event.dataTransfer.getData("text/plain");
    if (!canWrite || !catalogue[type]) {
      return;
    }
    var rect = editor.precanvas.getBoundingClientRect();
    addNode(type, { x: (event.clientX - rect.left) / editor.zoom, y: (event.clientY - rect.top) / editor.zoom });
  });

  // --- validation ----------------------------------------------------------------

  var validationTimer = null;

  function scheduleValidation() {
    window.clearTimeout(validationTimer);
    validationTimer = window.setTimeout(validate, 400);
  }

  function validate() {
    var body = JSON.stringify({ nodes: state.nodes, edges: state.edges });
    return fetch(config.urls.validate, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": root.getAttribute("data-csrf") },
      body: body,
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (result) {
        if (result) {
          applyErrors(result.errors || {});
        }
      })
      .catch(function () {
        return null;
      });
  }

  // Sort error keys (`nodes.<id>.<field>`, `edges.<id>.<field>`, `nodes`) by node.
  function applyErrors(errors) {
    var byNode = {};
    var graph = [];
    var edgeSources = {};
    state.edges.forEach(function (edge) {
      edgeSources[edge.id] = edge;
    });
    Object.keys(errors).forEach(function (key) {
      var parts = key.split(".");
      var messages = errors[key];
      if (parts[0] === "nodes" && parts.length > 1 && findNode(parts[1])) {
        byNode[parts[1]] = byNode[parts[1]] || [];
        messages.forEach(function (message) {
          // JSON Schema reports a missing property on the object holding it; show it on the field.
          var missing = /^'([^']+)' is a required property/.exec(message);
          var field = parts.slice(2).join(".");
          if (missing && field === "parameters") {
            field = "parameters." + missing[1];
          }
          byNode[parts[1]].push({ field: field, messages: [message] });
        });
      } else if (parts[0] === "edges" && parts.length > 1 && edgeSources[parts[1]]) {
        var edge = edgeSources[parts[1]];
        var source = findNode(edge.source);
        var target = findNode(edge.target);
        graph.push(
          "Connection " + (source ? source.name : edge.source) + " → " + (target ? target.name : edge.target) + ": " + messages.join(" ")
        );
      } else {
        graph.push(messages.join(" "));
      }
    });
    state.errors = byNode;
    state.graphErrors = graph;
    showErrors();
    showPanelErrors();
  }

  function showErrors() {
    canvas.querySelectorAll(".drawflow-node").forEach(function (element) {
      var nodeId = element.getAttribute("data-node-id");
      var problems = state.errors[nodeId] || [];
      element.classList.toggle("wf-invalid", problems.length > 0);
      var list = element.querySelector(".wf-node-errors");
      if (!list) {
        return;
      }
      list.textContent = "";
      problems.forEach(function (problem) {
        var prefix = problem.field ? problem.field.replace(/^parameters\./, "") + ": " : "";
        list.appendChild(el("li", { text: prefix + problem.messages.join(" ") }));
      });
    });
    var graphList = document.getElementById("wf-graph-errors");
    graphList.textContent = "";
    (state.graphErrors || []).forEach(function (message) {
      graphList.appendChild(el("li", { text: message }));
    });
    graphList.hidden = !(state.graphErrors || []).length;
  }

  // --- node panel ----------------------------------------------------------------

  var nodePanel = document.getElementById("wf-panel-node");

  function updateNode(nodeId, mutate, redraw) {
    var node = findNode(nodeId);
    if (!node) {
      return;
    }
    var before = handlesOf(node).join(",");
    change(function () {
      mutate(node);
    });
    if (redraw || handlesOf(node).join(",") !== before) {
      draw();
    } else {
      var element = nodeElement(nodeId);
      if (element) {
        element.querySelector(".wf-node-title").textContent = node.name || node.id;
      }
    }
  }

  function showNodePanel() {
    nodePanel.textContent = "";
    var node = state.selected ? findNode(state.selected) : null;
    if (!node) {
      nodePanel.appendChild(el("p", { class: "muted", text: "Select a node to edit its parameters." }));
      return;
    }
    var kind = catalogue[node.type] || { schema: {}, description: "Unknown node type." };
    var prefix = "wf-param-";
    nodePanel.appendChild(el("h2", { id: "wf-node-heading", text: node.name || node.id }));
    nodePanel.appendChild(
      el("p", { class: "muted small" }, [el("code", { text: node.type }), " · id ", el("code", { text: node.id })])
    );
    nodePanel.appendChild(el("p", { class: "small", text: kind.description }));
    nodePanel.appendChild(el("div", { id: "wf-node-errors", class: "alert alert-error", role: "alert", hidden: true }));

    var parameters = el("fieldset", { class: "wf-fieldset" }, [el("legend", { text: "Parameters" })]);
    forms
      .buildParameterFields({
        idPrefix: prefix,
        schema: kind.schema,
        parameters: node.parameters || {},
        readonly: !canWrite,
        onChange: function (name, value) {
          updateNode(node.id, function (target) {
            target.parameters = target.parameters || {};
            if (value === undefined) {
              delete target.parameters[name];
            } else {
              target.parameters[name] = value;
            }
          });
        },
      })
      .forEach(function (field) {
        parameters.appendChild(field);
      });
    nodePanel.appendChild(parameters);
    nodePanel.appendChild(settingsFields(node));
    nodePanel.appendChild(connectionsSection(node));
    nodePanel.appendChild(testSection(node));
    if (canWrite) {
      nodePanel.appendChild(
        el("div", { class: "form-actions" }, [
          el("button", {
            type: "button",
            class: "button button-danger button-small",
            text: "Delete node",
            onclick: function () {
              change(
                function () {
                  removeNode(node.id);
                },
                { redraw: true }
              );
              state.selected = null;
              showNodePanel();
            },
          }),
        ])
      );
    }
    showPanelErrors();
  }

  function settingsFields(node) {
    var prefix = "wf-setting-";
    var section = el("details", { class: "wf-settings" }, [el("summary", { text: "Name, error handling and retries" })]);
    var retry = node.retry || {};
    var fields = [
      { name: "name", kind: "text", value: node.name, required: true },
      { name: "notes", kind: "textarea", value: node.notes },
      { name: "disabled", kind: "boolean", value: node.disabled, label: "Disabled (skipped when the workflow runs)" },
      { name: "on_error", kind: "enum", choices: ["stop", "continue"], value: node.on_error, required: true, label: "On error" },
      { name: "timeout_seconds", kind: "number", value: node.timeout_seconds, label: "Timeout (seconds)" },
      { name: "max_attempts", kind: "number", value: retry.max_attempts, label: "Retry: attempts (1 to 10)" },
      { name: "backoff_seconds", kind: "number", value: retry.backoff_seconds, label: "Retry: seconds between attempts" },
      {
        name: "sample_output",
        kind: "json",
        value: node.sample_output === null ? undefined : node.sample_output,
        label: "Sample output (returned in test runs instead of calling out)",
      },
    ];
    fields.forEach(function (field) {
      section.appendChild(
        forms.buildField({
          idPrefix: prefix,
          name: field.name,
          kind: field.kind,
          label: field.label,
          choices: field.choices,
          required: field.required,
          value: field.value,
          readonly: !canWrite,
          onValue: function (value) {
            updateNode(
              node.id,
              function (target) {
                if (field.name === "max_attempts" || field.name === "backoff_seconds") {
                  var next = Object.assign({}, target.retry || {});
                  if (value === undefined) {
                    delete next[field.name];
                  } else {
                    next[field.name] = value;
                  }
                  target.retry = Object.keys(next).length ? next : null;
                } else if (value === undefined) {
                  target[field.name] = field.name === "notes" ? "" : null;
                } else {
                  target[field.name] = value;
                }
              },
              field.name === "disabled"
            );
          },
        })
      );
    });
    return section;
  }

  function connectionsSection(node) {
    var section = el("fieldset", { class: "wf-fieldset" }, [el("legend", { text: "Connections" })]);
    var list = el("ul", { class: "wf-connections" });
    state.edges.forEach(function (edge) {
      if (edge.source !== node.id && edge.target !== node.id) {
        return;
      }
      var source = findNode(edge.source);
      var target = findNode(edge.target);
      var text =
        (source ? source.name : edge.source) +
        " (" +
        (edge.source_handle || "main") +
        ") → " +
        (target ? target.name : edge.target);
      list.appendChild(
        el("li", {}, [
          text,
          canWrite
            ? el("button", {
                type: "button",
                class: "button button-link small",
                text: "Disconnect",
                "aria-label": "Disconnect " + text,
                onclick: function () {
                  change(
                    function () {
                      state.edges = state.edges.filter(function (item) {
                        return item.id !== edge.id;
                      });
                    },
                    { redraw: true }
                  );
                  showNodePanel();
                },
              })
            : null,
        ])
      );
    });
    if (!list.children.length) {
      list.appendChild(el("li", { class: "muted", text: "Not connected." }));
    }
    section.appendChild(list);
    if (!canWrite) {
      return section;
    }
    var targets = state.nodes.filter(function (other) {
      var kind = catalogue[other.type];
      return other.id !== node.id && !(kind && kind.is_trigger);
    });
    var handles = handlesOf(node);
    if (!targets.length || !handles.length) {
      return section;
    }
    var handleSelect = el(
      "select",
      { id: "wf-connect-handle" },
      handles.map(function (handle) {
        return el("option", { value: handle, text: handle });
      })
    );
    var targetSelect = el(
      "select",
      { id: "wf-connect-target" },
      targets.map(function (other) {
        return el("option", { value: other.id, text: other.name || other.id });
      })
    );
    section.appendChild(
      el("div", { class: "inline-fields" }, [
        el("label", { for: "wf-connect-handle", text: "Output" }),
        handleSelect,
        el("label", { for: "wf-connect-target", text: "to" }),
        targetSelect,
        el("button", {
          type: "button",
          id: "wf-connect-button",
          class: "button button-secondary button-small",
          text: "Connect",
          onclick: function () {
            change(
              function () {
                addEdge(node.id, targetSelect.value, handleSelect.value);
              },
              { redraw: true }
            );
            showNodePanel();
          },
        }),
      ])
    );
    return section;
  }

  function testSection(node) {
    var section = el("fieldset", { class: "wf-fieldset" }, [el("legend", { text: "Test this node" })]);
    var run = state.runs[node.id];
    if (run) {
      section.appendChild(
        el("p", {}, ["Last test run: ", el("span", { class: "status status-" + run.status, text: run.status })])
      );
      if (run.error) {
        section.appendChild(forms.jsonBlock(run.error));
      }
      section.appendChild(el("p", { class: "small", text: "Output" }));
      section.appendChild(forms.jsonBlock(run.output));
    }
    if (!config.can_run) {
      return section;
    }
    var inputDefault = state.testInputs[node.id];
    if (inputDefault === undefined) {
      inputDefault = run && run.input !== undefined ? forms.pretty(run.input) : "{}";
    }
    var input = el("textarea", { id: "wf-node-test-input", rows: 4, spellcheck: "false" });
    input.value = inputDefault;
    input.addEventListener("input", function () {
      state.testInputs[node.id] = input.value;
    });
    var result = el("div", { id: "wf-node-test-result", "aria-live": "polite" });
    section.appendChild(
      el("div", { class: "field" }, [
        el("label", { for: "wf-node-test-input", text: "Pinned input (JSON)" }),
        input,
        el("div", {
          class: "helptext",
          text: "Runs this node of the saved workflow with this input and shows its output. Save your changes first.",
        }),
      ])
    );
    section.appendChild(
      el("button", {
        type: "button",
        class: "button button-secondary button-small",
        text: "Test node",
        onclick: function () {
          testNode(node, input.value, result);
        },
      })
    );
    section.appendChild(result);

    var pinned = Object.prototype.hasOwnProperty.call(state.pinned, node.id);
    var pinBox = el("input", { type: "checkbox", id: "wf-pin-output" });
    pinBox.checked = pinned;
    var pinText = el("textarea", { id: "wf-pin-value", rows: 3, spellcheck: "false" });
    pinText.value = pinned ? forms.pretty(state.pinned[node.id]) : run ? forms.pretty(run.output) : "{}";
    var pinError = el("div", { class: "errorlist", role: "alert", hidden: true });
    var updatePin = function () {
      pinError.hidden = true;
      if (!pinBox.checked) {
        delete state.pinned[node.id];
        return;
      }
      var parsed = forms.parseStrict(pinText.value, "The pinned output");
      if (parsed.error) {
        pinError.textContent = parsed.error;
        pinError.hidden = false;
        return;
      }
      state.pinned[node.id] = parsed.value;
    };
    pinBox.addEventListener("change", updatePin);
    pinText.addEventListener("change", updatePin);
    section.appendChild(
      el("div", { class: "field field-checkbox" }, [
        pinBox,
        el("label", { for: "wf-pin-output", text: "Pin this output in workflow tests" }),
      ])
    );
    section.appendChild(el("label", { for: "wf-pin-value", class: "visually-hidden", text: "Pinned output (JSON)" }));
    section.appendChild(pinText);
    section.appendChild(pinError);
    return section;
  }

  function showPanelErrors() {
    var node = state.selected ? findNode(state.selected) : null;
    var box = document.getElementById("wf-node-errors");
    if (!node || !box) {
      return;
    }
    var problems = state.errors[node.id] || [];
    var general = [];
    var byField = {};
    problems.forEach(function (problem) {
      var field = problem.field.replace(/^parameters\.?/, "").split(".")[0];
      byField[field] = (byField[field] || []).concat(problem.messages);
    });
    nodePanel.querySelectorAll("[data-field]").forEach(function (field) {
      forms.showFieldErrors(nodePanel, field.getAttribute("data-field"), []);
    });
    Object.keys(byField).forEach(function (field) {
      var placed = field && forms.showFieldErrors(nodePanel, field, byField[field]);
      if (!placed) {
        general = general.concat(byField[field]);
      }
    });
    box.textContent = general.join(" ");
    box.hidden = general.length === 0;
  }

  function testNode(node, text, result) {
    result.textContent = "";
    if (isDirty()) {
      result.appendChild(el("p", { class: "alert alert-warning", text: "Save your changes first: the node test runs the saved workflow." }));
      return;
    }
    var parsed = forms.parseStrict(text, "The input");
    if (parsed.error) {
      result.appendChild(el("p", { class: "alert alert-error", role: "alert", text: parsed.error }));
      return;
    }
    var spinner = el("p", { class: "muted", text: "Testing…" });
    result.appendChild(spinner);
    var path = "workflows/" + state.workflow.id + "/nodes/" + encodeURIComponent(node.id) + "/test";
    api("POST", path, { input: parsed.value }).then(function (response) {
      result.textContent = "";
      if (!response.ok) {
        result.appendChild(el("p", { class: "alert alert-error", role: "alert", text: failure(response, "The node test") }));
        return;
      }
      var data = response.body.data || response.body;
      var status = data.node_status || data.status || (data.error ? "failed" : "succeeded");
      result.appendChild(
        el("p", {}, [
          "Result: ",
          el("span", { class: "status status-" + status, "data-testid": "node-test-status", text: status }),
          data.execution_id ? " " : null,
          data.execution_id ? el("a", { href: "/executions/" + data.execution_id + "/", text: "Open the execution" }) : null,
        ])
      );
      if (response.status === 202) {
        result.appendChild(el("p", { class: "muted", text: "The node is still running; follow it on its execution page." }));
      }
      if (data.error) {
        result.appendChild(forms.jsonBlock(data.error));
      }
      result.appendChild(el("p", { class: "small", text: "Output" }));
      var output = forms.jsonBlock(data.output);
      output.setAttribute("data-testid", "node-test-output");
      result.appendChild(output);
    });
  }

  // --- tabs ----------------------------------------------------------------------

  function showTab(name) {
    root.querySelectorAll('[role="tab"]').forEach(function (tab) {
      var selected = tab.id === "wf-tab-" + name;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
    });
    if (name === "json") {
      refreshJson(true);
    } else if (name === "versions") {
      loadVersions();
    } else if (name === "triggers") {
      showSchedule();
    }
  }

  root.querySelectorAll('[role="tab"]').forEach(function (tab) {
    tab.addEventListener("click", function () {
      showTab(tab.id.replace("wf-tab-", ""));
    });
  });

  // --- JSON view -----------------------------------------------------------------

  var jsonArea = document.getElementById("wf-json");

  function refreshJson(force) {
    if (document.activeElement === jsonArea && !force) {
      return;
    }
    jsonArea.value = JSON.stringify({ nodes: state.nodes, edges: state.edges, variables: state.variables }, null, 2);
  }

  function applyJson() {
    var errorBox = document.getElementById("wf-json-error");
    errorBox.hidden = true;
    var parsed = forms.parseStrict(jsonArea.value, "The graph");
    var graph = parsed.value;
    var problem = parsed.error;
    if (!problem && (!graph || typeof graph !== "object" || !Array.isArray(graph.nodes) || !Array.isArray(graph.edges || []))) {
      problem = 'Give an object with a "nodes" list and an "edges" list.';
    }
    if (!problem && graph.variables !== undefined && (typeof graph.variables !== "object" || Array.isArray(graph.variables))) {
      problem = '"variables" must be an object.';
    }
    if (!problem) {
      graph.nodes.some(function (node) {
        if (!node || typeof node.type !== "string" || typeof node.id !== "string") {
          problem = 'Every node needs a text "id" and "type".';
        }
        return Boolean(problem);
      });
    }
    if (problem) {
      errorBox.textContent = problem;
      errorBox.hidden = false;
      return;
    }
    change(
      function () {
        state.nodes = graph.nodes;
        state.edges = graph.edges || [];
        state.variables = graph.variables || {};
      },
      { redraw: true }
    );
    if (state.selected && !findNode(state.selected)) {
      state.selected = null;
    }
    showNodePanel();
    say("The JSON was applied to the canvas. Save to keep it.");
  }

  // --- copy and paste ------------------------------------------------------------

  function copySelected() {
    var node = state.selected ? findNode(state.selected) : null;
    if (!node) {
      say("Select a node to copy first.", "warning");
      return;
    }
    clipboard = JSON.stringify({ nodes: [node], edges: [] }, null, 2);
    var done = function () {
      say("Copied " + (node.name || node.id) + " as JSON. Paste it here or into another workflow.");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(clipboard).then(done, done);
    } else {
      done();
    }
  }

  function paste() {
    var use = function (text) {
      pasteText(text || clipboard);
    };
    if (navigator.clipboard && navigator.clipboard.readText) {
      navigator.clipboard.readText().then(use, function () {
        use(clipboard);
      });
    } else {
      use(clipboard);
    }
  }

  // Accept one node, a list of nodes or {nodes, edges}; pasted nodes get new ids.
  function pasteText(text) {
    var graph;
    try {
      graph = JSON.parse(text);
    } catch (error) {
      say("The clipboard holds no workflow JSON. Copy a node first.", "error");
      return;
    }
    var nodes = Array.isArray(graph) ? graph : Array.isArray(graph && graph.nodes) ? graph.nodes : [graph];
    var edges = graph && Array.isArray(graph.edges) ? graph.edges : [];
    var valid = nodes.length > 0 && nodes.every(function (node) {
      return node && typeof node === "object" && typeof node.type === "string";
    });
    if (!valid) {
      say('The pasted JSON has no nodes. Each node needs at least a "type".', "error");
      return;
    }
    var renamed = {};
    var added = [];
    change(
      function () {
        nodes.forEach(function (node) {
          var copy = clone(node);
          var position = copy.position || visibleCentre();
          copy.id = newNodeId(copy.type);
          copy.name = copy.name ? copy.name + " copy" : defaultName(copy.type);
          copy.position = { x: (position.x || 0) + 40, y: (position.y || 0) + 40 };
          copy.parameters = copy.parameters || {};
          if (typeof node.id === "string") {
            renamed[node.id] = copy.id;
          }
          state.nodes.push(copy);
          added.push(copy);
        });
        edges.forEach(function (edge) {
          if (edge && renamed[edge.source] && renamed[edge.target]) {
            addEdge(renamed[edge.source], renamed[edge.target], edge.source_handle || "main");
          }
        });
      },
      { redraw: true }
    );
    selectNode(added[0].id);
    say("Pasted " + added.length + (added.length === 1 ? " node." : " nodes."));
  }

  // --- save, test and run --------------------------------------------------------

  function save() {
    var nameInput = document.getElementById("wf-name");
    var active = document.getElementById("wf-active");
    var body = { name: nameInput.value.trim(), nodes: state.nodes, edges: state.edges, variables: state.variables };
    if (active) {
      body.active = active.checked;
    }
    if (!body.name) {
      say("Give the workflow a name, then save.", "error");
      nameInput.focus();
      return Promise.resolve(false);
    }
    setEnabled("save", false);
    say("Saving…", "warning");
    return api("PATCH", "workflows/" + state.workflow.id, body).then(function (result) {
      setEnabled("save", true);
      if (result.status === 422 && result.body.errors) {
        var graphErrors = {};
        var fieldErrors = [];
        Object.keys(result.body.errors).forEach(function (key) {
          if (key.indexOf("nodes") === 0 || key.indexOf("edges") === 0) {
            graphErrors[key] = result.body.errors[key];
          } else {
            fieldErrors.push(key + ": " + result.body.errors[key].join(" "));
          }
        });
        applyErrors(graphErrors);
        say("Not saved. Fix the problems marked on the nodes" + (fieldErrors.length ? " and " + fieldErrors.join(" ") : "") + ", then save again.", "error");
        return false;
      }
      if (!result.ok) {
        say(failure(result, "Saving"), "error");
        return false;
      }
      loadWorkflow(result.body.data, true);
      say("Saved as version " + state.workflow.version + ".");
      return true;
    });
  }

  function loadWorkflow(workflow, keepView) {
    state.workflow = workflow;
    state.nodes = clone(workflow.nodes);
    state.edges = clone(workflow.edges);
    state.variables = clone(workflow.variables || {});
    savedSnapshot = snapshot();
    document.getElementById("wf-name").value = workflow.name;
    document.getElementById("wf-version").textContent = "version " + workflow.version;
    var active = document.getElementById("wf-active");
    if (active) {
      active.checked = workflow.active;
    }
    if (!keepView) {
      history.undo = [];
      history.redo = [];
    }
    if (state.selected && !findNode(state.selected)) {
      state.selected = null;
    }
    draw();
    showNodePanel();
    refreshStatus();
    scheduleValidation();
  }

  function testDraft() {
    var resultBox = document.getElementById("wf-test-result");
    showTab("test");
    var parsed = forms.parseStrict(document.getElementById("wf-test-body").value, "The trigger body");
    resultBox.textContent = "";
    if (parsed.error) {
      resultBox.appendChild(el("p", { class: "alert alert-error", role: "alert", text: parsed.error }));
      return;
    }
    var started = Date.now();
    var spinner = el("p", { class: "muted" }, [el("span", { class: "spinner", "aria-hidden": "true" }), " Testing… 0 s"]);
    resultBox.appendChild(spinner);
    var timer = window.setInterval(function () {
      spinner.lastChild.textContent = " Testing… " + Math.round((Date.now() - started) / 1000) + " s";
    }, 1000);
    setEnabled("test-draft", false);
    var body = {
      nodes: state.nodes,
      edges: state.edges,
      variables: state.variables,
      trigger: { body: parsed.value === null ? {} : parsed.value },
    };
    if (Object.keys(state.pinned).length) {
      body.pinned = state.pinned;
    }
    var finish = function (message, execution) {
      window.clearInterval(timer);
      setEnabled("test-draft", true);
      resultBox.textContent = "";
      if (message) {
        resultBox.appendChild(el("p", { class: "alert alert-error", role: "alert", text: message }));
      }
      if (execution && execution.id) {
        showRun(execution, resultBox);
      }
    };
    api("POST", "workflows/test", body).then(function (result) {
      if (result.status === 422 && result.body.errors) {
        applyErrors(result.body.errors);
        finish("The draft is not valid: fix the problems marked on the nodes, then test again.");
        return;
      }
      if (!result.ok) {
        finish(failure(result, "The test run"));
        return;
      }
      var execution = result.body.data || {};
      if (isFinished(execution) && execution.data) {
        finish(null, execution);
        return;
      }
      poll(execution.id, started, finish);
    });
  }

  function isFinished(execution) {
    return ["succeeded", "failed", "canceled"].indexOf(execution.status) !== -1;
  }

  function poll(executionId, started, finish) {
    api("GET", "workflow-executions/" + executionId).then(function (result) {
      if (!result.ok) {
        finish(failure(result, "Reading the test execution"));
        return;
      }
      var execution = result.body.data;
      if (isFinished(execution)) {
        finish(null, execution);
      } else if (Date.now() - started > POLL_LIMIT_MS) {
        finish("The test is still " + execution.status + " after two minutes; follow it on its execution page.", execution);
      } else {
        window.setTimeout(function () {
          poll(executionId, started, finish);
        }, POLL_MS);
      }
    });
  }

  function showRun(execution, box) {
    var runs = ((execution.data || {}).node_runs || []).filter(function (run) {
      return run.item_index === undefined || run.item_index === -1;
    });
    state.runs = {};
    runs.forEach(function (run) {
      state.runs[run.node_id] = run;
    });
    showRunStatuses();
    box.appendChild(
      el("p", { "data-testid": "draft-test-status" }, [
        "Test execution ",
        el("span", { class: "status status-" + execution.status, text: execution.status }),
        " ",
        el("a", { href: "/executions/" + execution.id + "/", text: "Open the execution" }),
      ])
    );
    if (execution.error) {
      box.appendChild(forms.jsonBlock(execution.error));
    }
    var list = el("ul", { class: "node-runs" });
    runs.forEach(function (run) {
      var node = findNode(run.node_id);
      list.appendChild(
        el("li", {}, [
          el("details", {}, [
            el("summary", {}, [
              (node ? node.name : run.node_id) + " ",
              el("span", { class: "status status-" + run.status, text: run.status }),
            ]),
            el("p", { class: "small", text: "Output" }),
            forms.jsonBlock(run.output),
            run.error ? forms.jsonBlock(run.error) : null,
          ]),
        ])
      );
    });
    box.appendChild(list);
    showNodePanel();
  }

  function showRunStatuses() {
    canvas.querySelectorAll(".drawflow-node").forEach(function (element) {
      var run = state.runs[element.getAttribute("data-node-id")];
      element.setAttribute("data-run-status", run ? run.status : "");
      var badge = element.querySelector(".wf-node-run");
      if (badge) {
        badge.textContent = run ? run.status : "";
        badge.className = "wf-node-run" + (run ? " status status-" + run.status : "");
      }
    });
  }

  // --- versions ------------------------------------------------------------------

  function loadVersions() {
    var box = document.getElementById("wf-versions");
    box.textContent = "Loading versions…";
    api("GET", "workflows/" + state.workflow.id + "/versions?per_page=50").then(function (result) {
      box.textContent = "";
      if (!result.ok) {
        box.appendChild(el("p", { class: "alert alert-error", role: "alert", text: failure(result, "Listing versions") }));
        return;
      }
      var versions = result.body.data || [];
      if (!versions.length) {
        box.appendChild(el("p", { class: "empty", text: "No versions yet." }));
        return;
      }
      var rows = versions.map(function (version) {
        var number = version.number !== undefined ? version.number : version.version;
        var current = number === state.workflow.version;
        return el("tr", { "data-version": String(number) }, [
          el("td", { text: String(number) + (current ? " (current)" : "") }),
          el("td", { text: (version.created_at || "").replace("T", " ").slice(0, 16) }),
          el("td", { text: version.note || "" }),
          el("td", {}, [
            current
              ? null
              : el("button", {
                  type: "button",
                  class: "button button-link small",
                  text: "Compare",
                  "aria-label": "Compare version " + number + " with the current version",
                  onclick: function () {
                    showDiff(number);
                  },
                }),
            current || !canWrite
              ? null
              : el("button", {
                  type: "button",
                  class: "button button-link small",
                  text: "Restore",
                  "aria-label": "Restore version " + number,
                  onclick: function () {
                    restoreVersion(number);
                  },
                }),
          ]),
        ]);
      });
      box.appendChild(
        el("table", { class: "table" }, [
          el("thead", {}, [
            el("tr", {}, ["Version", "Saved", "Note", ""].map(function (label) {
              return el("th", { scope: "col", text: label });
            })),
          ]),
          el("tbody", {}, rows),
        ])
      );
    });
  }

  function showDiff(number) {
    var box = document.getElementById("wf-diff");
    box.textContent = "Comparing…";
    var path = "workflows/" + state.workflow.id + "/versions/" + number + "/diff/" + state.workflow.version;
    api("GET", path).then(function (result) {
      box.textContent = "";
      if (!result.ok) {
        box.appendChild(el("p", { class: "alert alert-error", role: "alert", text: failure(result, "Comparing versions") }));
        return;
      }
      box.appendChild(el("h3", { text: "Changes from version " + number + " to version " + state.workflow.version }));
      var diff = el("div", { "data-testid": "version-diff" }, [forms.renderTree(result.body.data || result.body)]);
      box.appendChild(diff);
    });
  }

  function restoreVersion(number) {
    if (isDirty() && !window.confirm("Restoring discards your unsaved changes. Continue?")) {
      return;
    }
    api("POST", "workflows/" + state.workflow.id + "/versions/" + number + "/restore", {}).then(function (result) {
      if (!result.ok) {
        say(failure(result, "Restoring version " + number), "error");
        return;
      }
      api("GET", "workflows/" + state.workflow.id).then(function (current) {
        if (!current.ok) {
          say(failure(current, "Reloading the workflow"), "error");
          return;
        }
        loadWorkflow(current.body.data, false);
        say("Version " + number + " was restored as version " + state.workflow.version + ".");
        loadVersions();
      });
    });
  }

  // --- schedule ------------------------------------------------------------------

  var PRESETS = [
    ["", "Choose a preset…"],
    ["*/5 * * * *", "Every 5 minutes"],
    ["0 * * * *", "Every hour"],
    ["0 9 * * *", "Every day at 09:00"],
    ["0 9 * * 1-5", "Weekdays at 09:00"],
    ["0 9 * * 1", "Mondays at 09:00"],
    ["0 0 1 * *", "First day of the month at 00:00"],
  ];

  function scheduleNode() {
    for (var index = 0; index < state.nodes.length; index++) {
      if (state.nodes[index].type === "trigger.schedule") {
        return state.nodes[index];
      }
    }
    return null;
  }

  function showSchedule() {
    var box = document.getElementById("wf-schedule");
    box.textContent = "";
    var node = scheduleNode();
    var parameters = (node && node.parameters) || {};
    box.appendChild(
      el("p", {
        class: "muted small",
        "data-testid": "schedule-summary",
        text: node
          ? "Runs on “" + (parameters.cron || "") + "” in " + (parameters.timezone || "UTC") + (node.disabled ? ", but the schedule node is disabled." : ".")
          : "No schedule: the workflow runs only when called or triggered.",
      })
    );
    if (!canWrite) {
      return;
    }
    var preset = el(
      "select",
      { id: "wf-schedule-preset" },
      PRESETS.map(function (item) {
        return el("option", { value: item[0], text: item[1] });
      })
    );
    var cron = el("input", { id: "wf-schedule-cron", type: "text", value: parameters.cron || "", placeholder: "0 9 * * 1-5", "aria-describedby": "wf-schedule-cron-help" });
    var zone = el("input", { id: "wf-schedule-timezone", type: "text", value: parameters.timezone || "UTC", list: "wf-timezones" });
    var zones = el("datalist", { id: "wf-timezones" });
    if (Intl.supportedValuesOf) {
      Intl.supportedValuesOf("timeZone").forEach(function (name) {
        zones.appendChild(el("option", { value: name }));
      });
    }
    preset.addEventListener("change", function () {
      if (preset.value) {
        cron.value = preset.value;
      }
    });
    var errors = el("div", { class: "errorlist", id: "wf-schedule-errors", role: "alert", hidden: true });
    var problems = (node && state.errors[node.id]) || [];
    if (problems.length) {
      errors.textContent = problems.map(function (problem) {
        return problem.messages.join(" ");
      }).join(" ");
      errors.hidden = false;
    }
    [
      el("div", { class: "field" }, [el("label", { for: "wf-schedule-preset", text: "Preset" }), preset]),
      el("div", { class: "field" }, [
        el("label", { for: "wf-schedule-cron", text: "Cron expression" }),
        errors,
        cron,
        el("div", { class: "helptext", id: "wf-schedule-cron-help", text: "Five fields: minute hour day-of-month month day-of-week, for example 30 8 * * 1-5 for 08:30 on weekdays." }),
      ]),
      el("div", { class: "field" }, [el("label", { for: "wf-schedule-timezone", text: "Time zone" }), zone, zones]),
    ].forEach(function (part) {
      box.appendChild(part);
    });
    var actions = el("div", { class: "button-group" }, [
      el("button", {
        type: "button",
        class: "button button-secondary button-small",
        text: node ? "Update schedule" : "Add schedule",
        onclick: function () {
          applySchedule(cron.value.trim(), zone.value.trim() || "UTC");
        },
      }),
      node
        ? el("button", {
            type: "button",
            class: "button button-danger button-small",
            text: "Remove schedule",
            onclick: function () {
              change(
                function () {
                  removeNode(node.id);
                },
                { redraw: true }
              );
              showSchedule();
            },
          })
        : null,
    ]);
    box.appendChild(actions);
  }

  function applySchedule(cron, zone) {
    var node = scheduleNode();
    change(
      function () {
        if (!node) {
          node = { id: newNodeId("trigger.schedule"), type: "trigger.schedule", name: "Schedule", position: { x: 80, y: 40 }, parameters: {} };
          state.nodes.push(node);
        }
        node.parameters = { cron: cron, timezone: zone };
      },
      { redraw: true }
    );
    validate().then(function () {
      showSchedule();
      say("The schedule is set on the canvas. Save to start it.");
    });
  }

  // --- wiring --------------------------------------------------------------------

  var handlers = {
    undo: undo,
    redo: redo,
    copy: copySelected,
    paste: paste,
    save: save,
    "test-draft": testDraft,
    "apply-json": applyJson,
    "zoom-in": function () {
      editor.zoom_in();
    },
    "zoom-out": function () {
      editor.zoom_out();
    },
    "zoom-reset": function () {
      editor.zoom_reset();
    },
  };
  Object.keys(buttons).forEach(function (name) {
    buttons[name].forEach(function (button) {
      button.addEventListener("click", function () {
        if (handlers[name]) {
          handlers[name]();
        }
      });
    });
  });

  ["wf-name", "wf-active"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input) {
      input.addEventListener("input", refreshStatus);
      input.addEventListener("change", refreshStatus);
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!canWrite || (target && (target.closest("input, textarea, select, [contenteditable]") || target.isContentEditable))) {
      return;
    }
    var key = event.key.toLowerCase();
    var command = event.ctrlKey || event.metaKey;
    if (!command) {
      return;
    }
    if (key === "z" && !event.shiftKey) {
      undo();
    } else if ((key === "z" && event.shiftKey) || key === "y") {
      redo();
    } else if (key === "c" && state.selected) {
      copySelected();
    } else if (key === "v") {
      paste();
    } else if (key === "s") {
      save();
    } else {
      return;
    }
    event.preventDefault();
  });

  var leaving = false;
  window.addEventListener("beforeunload", function (event) {
    if (!leaving && isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  root.querySelectorAll("form[data-confirm-dirty]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (isDirty() && !window.confirm("This leaves the editor and discards your unsaved changes. Continue?")) {
        event.preventDefault();
      } else {
        leaving = true;
      }
    });
  });

  buildPalette();
  draw();
  showNodePanel();
  refreshStatus();
  validate();
  root.setAttribute("data-state", "ready");
})();
