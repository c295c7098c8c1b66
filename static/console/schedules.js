/* Schedules: create, pause, resume and delete through the REST API; the table is re-rendered by the
   server after each change, so next-run times always come from the scheduler's own computation. */
(function () {
  "use strict";
  const L = window.Lantern;
  const form = document.getElementById("schedule-form");
  if (!form) {
    return;
  }
  const alertBox = document.getElementById("schedule-error");
  const rows = document.getElementById("schedule-rows");
  const message = document.getElementById("schedule-message");

  function field(name) {
    return form.elements.namedItem(name);
  }

  function integer(value) {
    return /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  }

  function showFrequencyFields() {
    const frequency = field("frequency").value;
    form.querySelector('[data-field="day_of_week"]').hidden = frequency !== "weekly";
    form.querySelector('[data-field="day_of_month"]').hidden = frequency !== "monthly";
  }

  async function refresh() {
    rows.innerHTML = await L.fragment(window.location.pathname + "?partial=rows");
  }

  async function loadEngines() {
    const result = await L.api("/api/v1/engines");
    if (!result.ok) {
      return;
    }
    const group = document.getElementById("s-engines");
    result.data.items.forEach((engine) => {
      const option = document.createElement("option");
      option.value = "engine:" + engine.name;
      option.textContent = engine.name;
      group.appendChild(option);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    L.clearErrors(form, alertBox);
    const [what, name] = field("kind").value.split(":");
    const body = {
      target: field("target").value.trim(), frequency: field("frequency").value, hour: integer(field("hour").value),
      minute: integer(field("minute").value || "0"), timezone: field("timezone").value.trim() || "UTC", priority: field("priority").value,
    };
    body[what] = name;
    if (what === "scan_type" && field("ports").value.trim()) {
      body.ports = field("ports").value.trim();
    }
    if (body.frequency === "weekly") {
      body.day_of_week = integer(field("day_of_week").value);
    }
    if (body.frequency === "monthly") {
      body.day_of_month = integer(field("day_of_month").value);
    }
    if (field("name").value.trim()) {
      body.name = field("name").value.trim();
    }
    const result = await L.api("/api/v1/scans/schedules", { method: "POST", body: body });
    if (!result.ok) {
      const error = L.errorOf(result);
      error.field = { scan_type: "engine", options: "engine" }[error.field] || error.field;
      L.showErrors(form, alertBox, error);
      return;
    }
    message.textContent = "Schedule created; next run " + result.data.next_run_at + ".";
    form.reset();
    showFrequencyFields();
    await refresh();
  });

  rows.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) {
      return;
    }
    const id = button.dataset.schedule;
    const action = button.dataset.action;
    if (action === "delete" && !window.confirm("Delete this schedule? Its past scans stay.")) {
      return;
    }
    button.disabled = true;
    const path = "/api/v1/scans/schedules/" + id + (action === "delete" ? "" : "/" + action);
    const result = await L.api(path, { method: action === "delete" ? "DELETE" : "POST" });
    message.textContent = result.ok ? "Schedule " + (action === "delete" ? "deleted" : action + "d") + "." : L.errorOf(result).message;
    await refresh();
  });

  field("frequency").addEventListener("change", showFrequencyFields);
  showFrequencyFields();
  loadEngines();
})();
