/* Chat: send a message, upload its files, and stream the agent's reply token by token.
 *
 * Thread mode posts to the thread run endpoint (`data-run-url`) with `stream: true`, then
 * reloads the stored messages from `data-messages-url`, so ratings and tool steps come from the
 * server. Public mode posts to a public link's run endpoint with the conversation so far,
 * because a public link keeps no thread. Both read Server-Sent Events: `delta`, `step`,
 * `error` and a final `done`.
 */
(function () {
  "use strict";

  // The public run endpoint accepts at most this many prior messages by default
  // (ATHENA_AGENT_MAX_MESSAGES), so older ones are dropped from what is sent.
  var MAX_HISTORY = 40;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  // Split a Server-Sent Events buffer into complete events; return the unfinished rest.
  function parseEvents(buffer, onEvent) {
    var parts = buffer.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) {
          name = line.slice(6).trim();
        } else if (line.indexOf("data:") === 0) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      });
      if (data.length) {
        var payload;
        try {
          payload = JSON.parse(data.join("\n"));
        } catch (error) {
          payload = null;
        }
        onEvent(name, payload);
      }
    });
    return rest;
  }

  function errorText(body, fallback) {
    if (!body) {
      return fallback;
    }
    var text = body.message || fallback;
    if (body.errors) {
      Object.keys(body.errors).forEach(function (key) {
        text += " " + [].concat(body.errors[key]).join(" ");
      });
    }
    return text;
  }

  function readJson(response) {
    return response.text().then(function (text) {
      try {
        return JSON.parse(text);
      } catch (error) {
        return null;
      }
    });
  }

  function setupChat(chat) {
    var form = chat.querySelector("[data-composer]");
    if (!form) {
      return;
    }
    var mode = chat.getAttribute("data-mode");
    var list = chat.querySelector(".messages-list");
    var input = form.querySelector("textarea");
    var files = form.querySelector("input[type=file]");
    var errorBox = form.querySelector("[data-composer-error]");
    var busy = form.querySelector("[data-composer-busy]");
    var status = form.querySelector("[data-composer-status]");
    var submit = form.querySelector("button[type=submit]");
    var csrf = chat.getAttribute("data-csrf") || "";
    var history = [];
    var runUrl = chat.getAttribute("data-run-url");
    if (!runUrl && chat.getAttribute("data-run-url-pattern")) {
      // A public page takes the link's token from its own address, the last path segment.
      var token = window.location.pathname.replace(/\/+$/, "").split("/").pop();
      runUrl = chat.getAttribute("data-run-url-pattern").replace("{token}", encodeURIComponent(token));
    }

    chat.setAttribute("data-state", "idle");

    function headers(extra) {
      var result = extra || {};
      if (csrf) {
        result["X-CSRFToken"] = csrf;
      }
      if (chat.getAttribute("data-workspace")) {
        result["X-Workspace"] = chat.getAttribute("data-workspace");
      }
      return result;
    }

    function showError(message) {
      errorBox.textContent = message || "";
    }

    function setBusy(on, text) {
      chat.setAttribute("data-state", on ? "busy" : "idle");
      submit.disabled = on;
      if (busy) {
        busy.hidden = !on;
      }
      if (status) {
        status.textContent = text || "";
      }
    }

    function upload() {
      if (!files || !files.files.length) {
        return Promise.resolve([]);
      }
      var uploads = Array.prototype.map.call(files.files, function (file) {
        var body = new FormData();
        body.append("file", file);
        return fetch(chat.getAttribute("data-upload-url"), {
          method: "POST",
          headers: headers(),
          body: body,
          credentials: "same-origin",
        }).then(function (response) {
          return readJson(response).then(function (json) {
            if (!response.ok) {
              throw new Error(file.name + ": " + errorText(json, "The upload failed (HTTP " + response.status + ")."));
            }
            return json.data.id;
          });
        });
      });
      return Promise.all(uploads);
    }

    function addBubble(role, text) {
      var empty = list.querySelector(".chat-empty");
      if (empty) {
        empty.remove();
      }
      var item = element("li", "chat-message chat-" + role);
      item.setAttribute("data-role", role);
      var author = role === "user" ? "You" : chat.getAttribute("data-agent-name") || "Agent";
      item.appendChild(element("div", "chat-author", author));
      var body = element("div", "chat-text", text);
      item.appendChild(body);
      list.appendChild(item);
      item.scrollIntoView({ block: "end" });
      return { item: item, body: body };
    }

    function showStep(reply, step) {
      var details = element("details", "tool-step");
      details.setAttribute("data-testid", "tool-step");
      var summary = element("summary", null, "Tool ");
      summary.appendChild(element("code", null, (step && step.tool) || "tool"));
      if (step && step.error) {
        summary.appendChild(document.createTextNode(" failed"));
      }
      details.appendChild(summary);
      var shown = { arguments: step && step.arguments, result: step && (step.error || step.result) };
      Object.keys(shown).forEach(function (key) {
        if (shown[key] !== undefined && shown[key] !== null) {
          details.appendChild(element("pre", "json", JSON.stringify(shown[key], null, 2)));
        }
      });
      reply.item.insertBefore(details, reply.body);
    }

    // Read the stream, painting each delta as it arrives; resolve with the `done` data.
    function stream(response, reply) {
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var deltas = 0;
      var done = null;
      reply.item.classList.add("chat-streaming");

      function onEvent(name, data) {
        if (name === "delta" && data && data.text) {
          reply.body.appendChild(document.createTextNode(data.text));
          deltas += 1;
          reply.item.setAttribute("data-deltas", String(deltas));
          chat.setAttribute("data-stream-deltas", String(deltas));
        } else if (name === "step") {
          showStep(reply, data);
        } else if (name === "error") {
          var alert = element("p", "alert alert-error small", "The reply failed: " + ((data && data.message) || "unknown error"));
          alert.setAttribute("role", "alert");
          reply.item.appendChild(alert);
        } else if (name === "done") {
          done = data || {};
        }
      }

      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            parseEvents(buffer + "\n\n", onEvent);
            reply.item.classList.remove("chat-streaming");
            return done;
          }
          buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
          return pump();
        });
      }
      return pump();
    }

    function reloadMessages() {
      var url = chat.getAttribute("data-messages-url");
      if (!url) {
        return Promise.resolve();
      }
      return fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null) {
            return;
          }
          list.innerHTML = html;
          if (window.htmx) {
            window.htmx.process(list);
          }
        });
    }

    function send() {
      var content = input.value;
      var hasFiles = files && files.files.length > 0;
      if (!content.trim() && !hasFiles) {
        showError("Write a message or attach a file first.");
        input.focus();
        return;
      }
      showError("");
      setBusy(true, hasFiles ? "Uploading…" : "Waiting for the reply…");

      upload()
        .then(function (attachmentIds) {
          setBusy(true, "Waiting for the reply…");
          addBubble("user", content + (hasFiles ? "\n📎 " + Array.prototype.map.call(files.files, function (file) { return file.name; }).join(", ") : ""));
          var reply = addBubble("assistant", "");
          var body;
          if (mode === "public") {
            body = { input: content, messages: history.slice(-MAX_HISTORY), stream: true };
          } else {
            body = { content: content, attachment_ids: attachmentIds, stream: true };
          }
          input.value = "";
          if (files) {
            files.value = "";
          }
          return fetch(runUrl, {
            method: "POST",
            headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
            body: JSON.stringify(body),
            credentials: mode === "public" ? "omit" : "same-origin",
          }).then(function (response) {
            var type = response.headers.get("Content-Type") || "";
            if (!response.ok || type.indexOf("text/event-stream") !== 0) {
              return readJson(response).then(function (json) {
                reply.item.remove();
                throw new Error(errorText(json, "The run failed (HTTP " + response.status + ")."));
              });
            }
            return stream(response, reply).then(function (done) {
              if (mode === "public") {
                history.push({ role: "user", content: content });
                history.push({ role: "assistant", content: (done && done.output) || reply.body.textContent });
                return null;
              }
              return reloadMessages();
            });
          });
        })
        .catch(function (error) {
          showError(error.message);
        })
        .then(function () {
          setBusy(false, "");
          input.focus();
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (chat.getAttribute("data-state") !== "busy") {
        send();
      }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-chat]").forEach(setupChat);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
