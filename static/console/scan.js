/* Scan page: the scan's event stream over WebSocket (replayed from seq 1, then live) drives the progress
   bar, the phase list, the event log and the ports table; when the scan ends, the results and findings
   fragments are re-rendered by the server. Findings are triaged and exported through the REST API. */
(function () {
  "use strict";
  const L = window.Lantern;
  const config = JSON.parse(document.getElementById("scan-config").textContent);
  const scanId = config.scanId;
  const pageUrl = window.location.pathname;
  const log = document.getElementById("event-log");
  const message = document.getElementById("scan-message");
  const hosts = new Set();
  const ports = new Set();
  const TERMINAL = { scan_complete: "completed", "scan.completed": "completed", "scan.failed": "failed", "scan.cancelled": "cancelled" };
  // A page rendered after the scan ended already shows its final results: the replay only fills the log.
  const endedBeforeLoad = ["completed", "failed", "cancelled"].includes(config.status);
  let findingsQuery = new URLSearchParams(new FormData(document.getElementById("findings-filters")));
  let socket = null;

  function announce(text) {
    message.textContent = text;
  }

  function setStatus(status) {
    const badge = document.getElementById("scan-status");
    badge.textContent = status;
    badge.className = "badge status-" + status;
    config.status = status;
    if (["completed", "failed", "cancelled"].includes(status)) {
      const cancel = document.getElementById("cancel-scan");
      if (cancel) {
        cancel.remove();
      }
    }
  }

  function setProgress(percent, phase, tool) {
    const bar = document.getElementById("scan-progress");
    const value = Math.max(Number(bar.getAttribute("aria-valuenow")) || 0, Math.min(100, percent));
    bar.setAttribute("aria-valuenow", String(value));
    bar.setAttribute("aria-valuetext", value + "%");
    bar.querySelector(".progress-fill").style.width = value + "%";
    document.getElementById("progress-percent").textContent = value + "%";
    if (phase) {
      document.getElementById("progress-phase").textContent = phase;
    }
    const toolNode = document.getElementById("progress-tool");
    if (tool && toolNode) {
      toolNode.textContent = tool;
    }
  }

  function setPhase(name, state, reason) {
    const item = document.querySelector('#phase-list [data-phase="' + CSS.escape(name) + '"]');
    if (!item) {
      return;
    }
    item.className = "phase phase-" + state;
    item.querySelector(".phase-state").textContent = state;
    if (reason && !item.querySelector(".phase-reason")) {
      const note = document.createElement("span");
      note.className = "muted small phase-reason";
      note.textContent = " " + reason;
      item.appendChild(note);
    }
  }

  function addPortRow(data) {
    const key = data.ip + "/" + data.port + "/" + (data.protocol || "tcp");
    const body = document.getElementById("devices-body");
    if (!body || body.querySelector('[data-key="' + CSS.escape(key) + '"]')) {
      return;
    }
    const empty = body.querySelector(".empty-row");
    if (empty) {
      empty.remove();
    }
    const row = document.createElement("tr");
    row.dataset.key = key;
    row.className = "live-row";
    [data.ip, data.hostname || "—", data.port + "/" + (data.protocol || "tcp"), "open", data.service || "—", [data.product, data.version].filter(Boolean).join(" ")]
      .forEach((text, index) => {
        const cell = document.createElement("td");
        cell.textContent = text;
        if (index === 0 || index === 2) {
          cell.className = "mono";
        }
        row.appendChild(cell);
      });
    body.appendChild(row);
  }

  function describe(event) {
    const d = event.data || {};
    switch (event.event) {
      case "progress": return d.percent + "% in " + (d.phase || "?") + (d.tool ? " (" + d.tool + ")" : "");
      case "phase.started": case "phase.completed": return d.phase;
      case "phase.skipped": return d.phase + ": " + d.reason;
      case "host_found": return "host " + d.ip;
      case "port_found": return "port " + d.port + "/" + (d.protocol || "tcp") + " open on " + d.ip + (d.service ? " (" + d.service + ")" : "");
      case "finding_found": return d.title || d.template_id || "new finding";
      case "scan.queued": return "queued" + (d.priority ? " at " + d.priority + " priority" : "") + (d.reason ? ": " + d.reason : "");
      case "scan.started": return "started on " + (d.worker || "a worker");
      case "scan_complete": case "scan.completed": return "completed: " + d.devices_found + " device(s), " + d.open_ports_total + " open port(s)";
      case "scan.failed": case "scan.cancelled": return d.reason || d.status;
      default: return JSON.stringify(d);
    }
  }

  function appendLog(event) {
    const item = document.createElement("li");
    item.className = "event event-" + event.event.replace(/\W/g, "-");
    const time = document.createElement("time");
    time.dateTime = event.timestamp;
    time.textContent = new Date(event.timestamp).toLocaleTimeString();
    const name = document.createElement("span");
    name.className = "event-name";
    name.textContent = event.event;
    item.append(time, " ", name, " ", describe(event));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function handle(event) {
    appendLog(event);
    const d = event.data || {};
    switch (event.event) {
      case "scan.started":
        setStatus("running");
        document.getElementById("scan-duration").textContent = "running since " + new Date(event.timestamp).toLocaleTimeString();
        break;
      case "progress": setProgress(d.percent, d.phase, d.tool); break;
      case "phase.started": setPhase(d.phase, "running"); setProgress(0, d.phase); break;
      case "phase.completed": setPhase(d.phase, "completed"); break;
      case "phase.skipped": setPhase(d.phase, "skipped", d.reason); break;
      case "host_found":
        hosts.add(d.ip);
        bump("hosts-found", hosts.size);
        break;
      case "port_found":
        hosts.add(d.ip);
        ports.add(d.ip + "/" + d.port + "/" + d.protocol);
        bump("hosts-found", hosts.size);
        bump("ports-found", ports.size);
        addPortRow(d);
        announce("Port " + d.port + " open on " + d.ip);
        break;
      case "finding_found": refreshFindings(); break;
      default: break;
    }
    if (TERMINAL[event.event]) {
      const status = TERMINAL[event.event];
      setStatus(status);
      if (status === "completed") {
        setProgress(100, "complete");
      }
      if (typeof d.duration === "number") {
        document.getElementById("scan-duration").textContent = Math.round(d.duration) + " s";
      }
      if (!endedBeforeLoad) {
        announce("Scan " + status + ".");
        refreshResults();
        refreshFindings();
      }
      if (socket) {
        socket.close();
      }
    }
  }

  function bump(id, value) {
    const node = document.getElementById(id);
    node.textContent = String(Math.max(Number(node.textContent) || 0, value));
  }

  async function refreshResults() {
    const html = await L.fragment(pageUrl + "?partial=results");
    document.getElementById("results").innerHTML = html;
  }

  async function refreshFindings() {
    findingsQuery.set("partial", "findings");
    const html = await L.fragment(pageUrl + "?" + findingsQuery.toString());
    document.getElementById("findings").innerHTML = html;
  }

  document.getElementById("findings-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    findingsQuery = new URLSearchParams(new FormData(event.target));
    refreshFindings();
  });
  document.querySelectorAll("#findings-filters select").forEach((select) => select.addEventListener("change", () => {
    findingsQuery = new URLSearchParams(new FormData(select.form));
    refreshFindings();
  }));

  const findings = document.getElementById("findings");
  findings.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-page]");
    if (link) {
      event.preventDefault();
      findingsQuery.set("page", link.dataset.page);
      refreshFindings();
    }
  });
  findings.addEventListener("submit", async (event) => {
    const statusForm = event.target.closest(".finding-status-form");
    if (!statusForm) {
      return;
    }
    event.preventDefault();
    const id = statusForm.dataset.finding;
    const status = statusForm.elements.namedItem("status").value;
    const errorNode = document.getElementById("status-error-" + id);
    errorNode.textContent = "";
    const result = await L.api("/api/v1/findings/" + id, { method: "PATCH", body: { status: status, note: "changed in the console" } });
    if (!result.ok) {
      errorNode.textContent = L.errorOf(result).message;
      return;
    }
    announce("Finding \u201c" + result.data.title + "\u201d is now " + result.data.status + ".");
    await refreshFindings();
  });

  document.querySelectorAll("[data-export]").forEach((button) => button.addEventListener("click", async () => {
    const format = button.dataset.export;
    button.disabled = true;
    try {
      const name = await L.download("/api/v1/scans/" + scanId + "/export?format=" + format, "lantern-scan-" + scanId + "." + format);
      announce("Downloaded " + name + ".");
    } catch (error) {
      announce(error.message);
    } finally {
      button.disabled = false;
    }
  }));

  document.querySelectorAll("[data-compliance]").forEach((button) => button.addEventListener("click", async () => {
    const target = document.getElementById("compliance");
    target.innerHTML = await L.fragment(pageUrl + "?partial=compliance&framework=" + encodeURIComponent(button.dataset.compliance));
    target.focus();
  }));

  const cancel = document.getElementById("cancel-scan");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const result = await L.api("/api/v1/scans/" + scanId, { method: "DELETE" });
      announce(result.ok ? result.data.message + "." : L.errorOf(result).message);
      cancel.disabled = false;
    });
  }

  const wsState = document.getElementById("ws-state");
  socket = L.liveSocket("/ws/scans/" + scanId, {
    resumable: true,
    event: handle,
    state: (text) => { wsState.textContent = text; },
  });
})();
