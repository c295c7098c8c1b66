/* Lantern console: calls to the REST API with the session. Every write sends the csrftoken cookie as
   X-CSRFToken (Django's CSRF check for session-authenticated API calls) and the tenant the page was
   rendered for as X-Lantern-Tenant, so a user with several tenants always acts for the one on screen. */
(function () {
  "use strict";

  function cookie(name) {
    const match = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
    return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
  }

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return cookie("csrftoken") || (field ? field.value : "");
  }

  function tenant() {
    const meta = document.querySelector("meta[name=lantern-tenant]");
    return meta ? meta.content : "";
  }

  function headers(extra) {
    const result = { "X-CSRFToken": csrfToken(), "X-Lantern-Tenant": tenant(), Accept: "application/json" };
    return Object.assign(result, extra || {});
  }

  /* JSON in, JSON out: resolves to {ok, status, data}; never throws on HTTP errors. */
  async function api(path, options) {
    const opts = options || {};
    const init = { method: opts.method || "GET", credentials: "same-origin", headers: headers() };
    if (opts.form) {
      init.body = opts.form;
    } else if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      return { ok: false, status: 0, data: { error: { code: "network", message: "The server could not be reached." } } };
    }
    let data = null;
    if (response.status !== 204) {
      const text = await response.text();
      try {
        data = text ? JSON.parse(text) : null;
      } catch (error) {
        data = { error: { code: "unexpected", message: "Unexpected answer (" + response.status + ")." } };
      }
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function errorOf(result) {
    const error = (result.data && result.data.error) || {};
    return { message: error.message || "Request failed (" + result.status + ").", field: error.field || "" };
  }

  /* A server-rendered fragment of the current page (?partial=...). */
  async function fragment(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) {
      throw new Error("fragment " + url + " answered " + response.status);
    }
    return response.text();
  }

  /* A file download through fetch, so the tenant header goes with it. */
  async function download(path, fallbackName) {
    const response = await fetch(path, { credentials: "same-origin", headers: headers() });
    if (!response.ok) {
      let message = "Download failed (" + response.status + ").";
      try {
        message = (await response.json()).error.message || message;
      } catch (error) { /* a non-JSON error body keeps the generic message */ }
      throw new Error(message);
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : fallbackName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    return link.download;
  }

  /* A live event socket that re-authenticates with a fresh 60 s token and resumes from the last seq. */
  function liveSocket(path, handlers) {
    let lastSeq = 0;
    let closedByUs = false;
    let socket = null;
    async function open() {
      const token = await api("/api/v1/ws-token", { method: "POST" });
      if (!token.ok) {
        handlers.state && handlers.state("unavailable: " + errorOf(token).message);
        setTimeout(open, 5000);
        return;
      }
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const since = lastSeq && handlers.resumable ? "&since=" + lastSeq : "";
      socket = new WebSocket(scheme + "//" + location.host + path + "?token=" + encodeURIComponent(token.data.token) + since);
      socket.onopen = () => handlers.state && handlers.state("live");
      socket.onmessage = (message) => {
        const event = JSON.parse(message.data);
        if (handlers.resumable) {
          lastSeq = Math.max(lastSeq, event.seq);
        }
        handlers.event(event);
      };
      socket.onclose = () => {
        if (closedByUs) {
          return;
        }
        handlers.state && handlers.state("reconnecting…");
        setTimeout(open, 2000);
      };
    }
    open();
    return {
      close() {
        closedByUs = true;
        if (socket) {
          socket.close();
        }
        handlers.state && handlers.state("closed");
      },
    };
  }

  /* Show an API error next to its field (data-field="name" wrapper), or in the form's alert box. */
  function showErrors(form, alertBox, error) {
    clearErrors(form, alertBox);
    const wrapper = error.field ? form.querySelector('[data-field="' + CSS.escape(error.field) + '"]') : null;
    if (wrapper) {
      const message = document.createElement("p");
      message.className = "field-error";
      message.id = "error-" + error.field.replace(/[^a-zA-Z0-9_-]/g, "-");
      message.textContent = error.message;
      wrapper.appendChild(message);
      wrapper.classList.add("has-error");
      const input = wrapper.querySelector("input, select, textarea");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + message.id).trim());
        input.focus();
      }
      return;
    }
    alertBox.textContent = error.message;
    alertBox.hidden = false;
    alertBox.focus && alertBox.focus();
  }

  function clearErrors(form, alertBox) {
    form.querySelectorAll(".field-error").forEach((node) => {
      const input = node.parentElement.querySelector("[aria-invalid]");
      if (input) {
        input.removeAttribute("aria-invalid");
        const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== node.id);
        rest.length ? input.setAttribute("aria-describedby", rest.join(" ")) : input.removeAttribute("aria-describedby");
      }
      node.parentElement.classList.remove("has-error");
      node.remove();
    });
    if (alertBox) {
      alertBox.hidden = true;
      alertBox.textContent = "";
    }
  }

  window.Lantern = { api, errorOf, fragment, download, liveSocket, showErrors, clearErrors, tenant };
})();
