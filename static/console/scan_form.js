/* New-scan form: every engine's options are drawn from its JSON Schema (GET /api/v1/engines), so a new
   engine or option appears here without touching the console. The API validates; its error names the
   field (error.field, e.g. "options.ports"), and the message is shown next to that field. */
(function () {
  "use strict";
  const L = window.Lantern;
  const form = document.getElementById("scan-form");
  if (!form) {
    return;
  }
  const alertBox = document.getElementById("form-error");
  const kind = document.getElementById("f-kind");
  const engineGroup = document.getElementById("engine-options");
  const engineFields = document.getElementById("engine-fields");
  const optionFields = document.getElementById("engine-option-fields");
  const scanTypeFields = document.getElementById("scan-type-fields");
  const urls = JSON.parse(document.getElementById("console-urls").textContent);
  const ERROR_FIELD_ALIASES = { scan_type: "engine", options: "engine" };
  let engines = {};

  function field(name) {
    return form.elements.namedItem(name);
  }

  function scanUrl(id) {
    return urls.scanPage.replace("00000000-0000-0000-0000-000000000000", id);
  }

  function element(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value !== undefined && value !== null && value !== false) {
        node.setAttribute(key, value === true ? "" : value);
      }
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function help(id, spec) {
    const bits = [spec.description || ""];
    if (spec.minimum !== undefined || spec.maximum !== undefined) {
      bits.push("(" + [spec.minimum, spec.maximum].map((v) => (v === undefined ? "…" : v)).join(" to ") + ")");
    }
    if (spec.default !== undefined && !Array.isArray(spec.default) && spec.type !== "boolean") {
      bits.push("Default: " + spec.default + ".");
    }
    return element("p", { class: "help", id: id }, bits.join(" ").trim());
  }

  /* One option's input, chosen by its JSON Schema type. */
  function optionField(name, spec) {
    const id = "opt-" + name;
    const wrapper = element("div", { class: "field", "data-field": "options." + name, "data-option": name, "data-type": spec.type });
    if (spec.readOnly || spec.type === "object") {
      wrapper.appendChild(element("p", { class: "help" }, name + ": " + (spec.description || "not configurable here")));
      wrapper.dataset.type = "readonly";
      return wrapper;
    }
    const helpNode = help(id + "-help", spec);
    if (spec.type === "boolean" && spec.default !== undefined) {
      const label = element("label", { class: "check", for: id });
      const input = element("input", { type: "checkbox", id: id, name: "options." + name, "aria-describedby": helpNode.id, checked: spec.default === true });
      label.append(input, " " + name);
      wrapper.append(label, helpNode);
      return wrapper;
    }
    if (spec.type === "array" && spec.items && spec.items.enum) {
      const group = element("fieldset", { class: "checks", "aria-describedby": helpNode.id });
      group.appendChild(element("legend", {}, name));
      const chosen = new Set(spec.default || []);
      spec.items.enum.forEach((value) => {
        const label = element("label", { class: "check" });
        label.append(element("input", { type: "checkbox", name: "options." + name, value: value, checked: chosen.has(value) }), " " + value);
        group.appendChild(label);
      });
      wrapper.append(group, helpNode);
      return wrapper;
    }
    wrapper.appendChild(element("label", { for: id }, name));
    let input;
    if (spec.type === "boolean") {
      input = element("select", { id: id, name: "options." + name });
      [["", "auto"], ["true", "yes"], ["false", "no"]].forEach(([value, text]) => input.appendChild(element("option", { value: value }, text)));
    } else if (spec.enum) {
      input = element("select", { id: id, name: "options." + name });
      if (spec.default === undefined) {
        input.appendChild(element("option", { value: "" }, "(not set)"));
      }
      spec.enum.forEach((value) => input.appendChild(element("option", { value: value, selected: value === spec.default }, value)));
    } else if (spec.type === "integer") {
      input = element("input", { type: "number", id: id, name: "options." + name, min: spec.minimum, max: spec.maximum, step: 1, inputmode: "numeric", value: spec.default });
    } else if (spec.type === "array") {
      input = element("input", { type: "text", id: id, name: "options." + name, value: (spec.default || []).join(", "), placeholder: "comma separated", spellcheck: "false" });
    } else {
      input = element("input", { type: "text", id: id, name: "options." + name, value: spec.default, spellcheck: "false" });
    }
    input.setAttribute("aria-describedby", helpNode.id);
    wrapper.append(input, helpNode);
    return wrapper;
  }

  function showKind() {
    const [what, name] = kind.value.split(":");
    const isEngine = what === "engine";
    engineFields.hidden = !isEngine;
    scanTypeFields.hidden = isEngine;
    optionFields.replaceChildren();
    if (!isEngine) {
      return;
    }
    const engine = engines[name];
    document.getElementById("engine-legend").textContent = name + " options";
    document.getElementById("engine-description").textContent = engine.description +
      " Accepts: " + engine.target_types.join(", ") + "." + (engine.available ? "" : " No live worker has this engine right now.");
    Object.entries(engine.options.properties || {}).forEach(([option, spec]) => optionFields.appendChild(optionField(option, spec)));
  }

  function optionValue(wrapper) {
    const name = wrapper.dataset.option;
    const type = wrapper.dataset.type;
    const inputs = wrapper.querySelectorAll('[name="options.' + CSS.escape(name) + '"]');
    if (type === "readonly") {
      return undefined;
    }
    if (inputs[0].type === "checkbox" && type === "boolean") {
      return inputs[0].checked;
    }
    if (type === "array" && inputs[0].type === "checkbox") {
      return Array.from(inputs).filter((box) => box.checked).map((box) => box.value);
    }
    const raw = inputs[0].value.trim();
    if (raw === "") {
      return undefined;
    }
    if (type === "boolean") {
      return raw === "true";
    }
    if (type === "integer") {
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
    if (type === "array") {
      return raw.split(/[,\n]/).map((item) => item.trim()).filter(Boolean);
    }
    return raw;
  }

  function requestBody() {
    const [what, name] = kind.value.split(":");
    const body = { target: field("target").value.trim(), authorized: field("authorized").checked, priority: field("priority").value };
    if (field("target_type").value) {
      body.target_type = field("target_type").value;
    }
    if (field("name").value.trim()) {
      body.name = field("name").value.trim();
    }
    if (field("timeout").value.trim()) {
      body.timeout = /^\d+$/.test(field("timeout").value.trim()) ? Number(field("timeout").value.trim()) : field("timeout").value;
    }
    const tags = field("tags").value.split(",").map((tag) => tag.trim()).filter(Boolean);
    if (tags.length) {
      body.tags = tags;
    }
    if (what === "engine") {
      body.engine = name;
      body.options = {};
      optionFields.querySelectorAll("[data-option]").forEach((wrapper) => {
        const value = optionValue(wrapper);
        if (value !== undefined) {
          body.options[wrapper.dataset.option] = value;
        }
      });
    } else {
      body.scan_type = name;
      if (field("ports").value.trim()) {
        body.ports = field("ports").value.trim();
      }
      const frameworks = Array.from(form.querySelectorAll("input[name=frameworks]:checked")).map((box) => box.value);
      if (frameworks.length) {
        body.frameworks = frameworks;
      }
    }
    return body;
  }

  async function submit(event) {
    event.preventDefault();
    const button = document.getElementById("submit-scan");
    button.disabled = true;
    L.clearErrors(form, alertBox);
    const result = await L.api("/api/v1/scans", { method: "POST", body: requestBody() });
    button.disabled = false;
    if (result.ok) {
      window.location.assign(scanUrl(result.data.id));
      return;
    }
    const error = L.errorOf(result);
    error.field = ERROR_FIELD_ALIASES[error.field] || error.field;
    L.showErrors(form, alertBox, error);
  }

  async function submitImport(event) {
    event.preventDefault();
    const importForm = event.target;
    const importAlert = document.getElementById("import-error");
    L.clearErrors(importForm, importAlert);
    const data = new FormData(importForm);
    ["target", "name"].forEach((field) => { if (!String(data.get(field) || "").trim()) { data.delete(field); } });
    const button = document.getElementById("submit-import");
    button.disabled = true;
    const result = await L.api("/api/v1/scans/import", { method: "POST", form: data });
    button.disabled = false;
    if (result.ok) {
      window.location.assign(scanUrl(result.data.id));
      return;
    }
    L.showErrors(importForm, importAlert, L.errorOf(result));
  }

  async function load() {
    const helpNode = document.getElementById("f-kind-help");
    const result = await L.api("/api/v1/engines");
    if (!result.ok) {
      helpNode.textContent = "Engines could not be loaded: " + L.errorOf(result).message;
      return;
    }
    const importEngine = document.getElementById("i-engine");
    result.data.items.forEach((engine) => {
      engines[engine.name] = engine;
      const label = engine.name + " (" + engine.category + ")" + (engine.available ? "" : " — no worker");
      engineGroup.appendChild(element("option", { value: "engine:" + engine.name }, label));
      if (engine.category !== "orchestrated") {
        importEngine.appendChild(element("option", { value: engine.name }, engine.name));
      }
    });
    helpNode.textContent = "A scan type runs a plan of phases; an engine runs one tool with its own options.";
    form.dataset.ready = "true";
    showKind();
  }

  kind.addEventListener("change", showKind);
  form.addEventListener("submit", submit);
  document.getElementById("import-form").addEventListener("submit", submitImport);
  load();
})();
