/* Building blocks of the workflow editor: DOM helpers, forms generated from a node type's JSON
   schema, and renderers for execution results and version diffs. */
(function () {
  "use strict";

  // Create an element; `attributes` keys starting with "on" become event listeners.
  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      var value = attributes[key];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (key.indexOf("on") === 0) {
        node.addEventListener(key.slice(2), value);
      } else if (key === "text") {
        node.textContent = value;
      } else if (value === true) {
        node.setAttribute(key, "");
      } else {
        node.setAttribute(key, value);
      }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function pretty(value) {
    return value === undefined ? "" : JSON.stringify(value, null, 2);
  }

  // Parse a field that takes any JSON value: valid JSON gives that value, anything else is
  // kept as text, so an expression such as {{ input.total }} needs no quotes.
  function parseLoose(text) {
    var trimmed = text.trim();
    if (trimmed === "") {
      return undefined;
    }
    try {
      return JSON.parse(trimmed);
    } catch (error) {
      return text;
    }
  }

  function formatLoose(value) {
    if (value === undefined) {
      return "";
    }
    return typeof value === "string" ? value : pretty(value);
  }

  // Parse JSON the user must get right (test input, pinned output); returns {value} or {error}.
  function parseStrict(text, label) {
    if (text.trim() === "") {
      return { value: null };
    }
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      return { error: label + " is not valid JSON: " + error.message + ". Fix it and try again." };
    }
  }

  var LONG_TEXT = ["template", "prompt", "system", "message", "input", "instructions"];

  function fieldKind(name, property) {
    if (Array.isArray(property.enum)) {
      return "enum";
    }
    if (property.type === "boolean") {
      return "boolean";
    }
    if (property.type === "string") {
      return property.maxLength > 300 || LONG_TEXT.indexOf(name) !== -1 ? "textarea" : "text";
    }
    if (property.type === "integer" || property.type === "number") {
      return "number";
    }
    return "json";
  }

  // One labelled control for `name`; `onValue` gets the new value, or undefined to drop the key.
  function buildField(options) {
    var id = options.idPrefix + options.name;
    var kind = options.kind;
    var value = options.value;
    var control;
    var read;
    if (kind === "enum") {
      var choices = (options.required ? [] : [""]).concat(options.choices);
      control = element(
        "select",
        { id: id },
        choices.map(function (choice) {
          return element("option", { value: choice, text: choice === "" ? "(default)" : String(choice) });
        })
      );
      control.value = value === undefined ? "" : String(value);
      read = function () {
        return control.value === "" ? undefined : control.value;
      };
    } else if (kind === "boolean") {
      control = element("input", { id: id, type: "checkbox" });
      control.checked = Boolean(value);
      read = function () {
        return control.checked;
      };
    } else if (kind === "number") {
      control = element("input", { id: id, type: "number", step: "any" });
      control.value = value === undefined || value === null ? "" : String(value);
      read = function () {
        return control.value === "" ? undefined : Number(control.value);
      };
    } else if (kind === "text") {
      control = element("input", { id: id, type: "text" });
      control.value = value === undefined ? "" : String(value);
      read = function () {
        return control.value === "" && !options.required ? undefined : control.value;
      };
    } else {
      control = element("textarea", { id: id, rows: kind === "json" ? 4 : 6, spellcheck: "false" });
      control.value = kind === "json" ? formatLoose(value) : value === undefined ? "" : String(value);
      read = function () {
        if (kind === "json") {
          return parseLoose(control.value);
        }
        return control.value === "" && !options.required ? undefined : control.value;
      };
    }
    if (options.readonly) {
      control.disabled = true;
    }
    var help = options.help ? element("div", { class: "helptext", id: id + "-help", text: options.help }) : null;
    if (help) {
      control.setAttribute("aria-describedby", id + "-help");
    }
    control.addEventListener("change", function () {
      options.onValue(read());
    });
    var label = element("label", { for: id }, [
      options.label || options.name,
      options.required ? element("span", { class: "muted small", text: " (required)" }) : null,
    ]);
    var errors = element("div", { class: "errorlist", id: id + "-error", role: "alert", hidden: true });
    var wrapper = element("div", { class: kind === "boolean" ? "field field-checkbox" : "field", "data-field": options.name });
    if (kind === "boolean") {
      [control, label, errors, help].forEach(function (part) {
        if (part) wrapper.appendChild(part);
      });
    } else {
      [label, errors, control, help].forEach(function (part) {
        if (part) wrapper.appendChild(part);
      });
    }
    return wrapper;
  }

  // Fields for every property of a node type's parameter schema.
  function buildParameterFields(options) {
    var schema = options.schema || {};
    var properties = schema.properties || {};
    var required = schema.required || [];
    var names = Object.keys(properties);
    if (!names.length) {
      return [element("p", { class: "muted small", text: "This node type has no parameters." })];
    }
    return names.map(function (name) {
      var property = properties[name];
      var kind = fieldKind(name, property);
      var help = kind === "json" ? "JSON, or text such as an expression {{ input.field }}." : null;
      if (property.maxLength && kind !== "json") {
        help = "At most " + property.maxLength + " characters.";
      }
      return buildField({
        idPrefix: options.idPrefix,
        name: name,
        kind: kind,
        choices: property.enum || [],
        required: required.indexOf(name) !== -1,
        value: options.parameters[name],
        readonly: options.readonly,
        help: help,
        onValue: function (value) {
          options.onChange(name, value);
        },
      });
    });
  }

  // Show `messages` under the field named `name` inside `root`; an empty list clears it.
  function showFieldErrors(root, name, messages) {
    var field = root.querySelector('[data-field="' + name + '"]');
    if (!field) {
      return false;
    }
    var box = field.querySelector(".errorlist");
    box.textContent = messages.join(" ");
    box.hidden = messages.length === 0;
    var control = field.querySelector("input, select, textarea");
    if (control) {
      control.setAttribute("aria-invalid", messages.length ? "true" : "false");
    }
    return true;
  }

  function humanize(key) {
    var text = String(key).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // Render any JSON value as nested lists, for version diffs whose items vary in shape.
  function renderTree(value) {
    if (Array.isArray(value)) {
      if (!value.length) {
        return element("span", { class: "muted", text: "none" });
      }
      return element(
        "ul",
        {},
        value.map(function (item) {
          return element("li", {}, [renderTree(item)]);
        })
      );
    }
    if (value && typeof value === "object") {
      var keys = Object.keys(value);
      if (!keys.length) {
        return element("span", { class: "muted", text: "none" });
      }
      return element(
        "dl",
        { class: "definition-list" },
        keys.reduce(function (parts, key) {
          parts.push(element("dt", { text: humanize(key) }));
          parts.push(element("dd", {}, [renderTree(value[key])]));
          return parts;
        }, [])
      );
    }
    return element("code", { text: value === null ? "null" : String(value) });
  }

  function jsonBlock(value) {
    return element("pre", { class: "json", text: pretty(value) });
  }

  window.AthenaWorkflowForms = {
    element: element,
    escapeHtml: escapeHtml,
    pretty: pretty,
    parseLoose: parseLoose,
    parseStrict: parseStrict,
    buildField: buildField,
    buildParameterFields: buildParameterFields,
    showFieldErrors: showFieldErrors,
    renderTree: renderTree,
    jsonBlock: jsonBlock,
    humanize: humanize,
  };
})();
