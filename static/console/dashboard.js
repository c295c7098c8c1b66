/* Dashboard: draws the findings-by-severity chart as inline SVG from the data the server embedded, and
   keeps "running now" and the queue live from the tenant's event stream (/ws/scans/): progress events
   move the bars in place; state changes re-render that fragment on the server. */
(function () {
  "use strict";
  const L = window.Lantern;
  const SVG = "http://www.w3.org/2000/svg";
  const SEVERITIES = ["critical", "high", "medium", "low", "info"];
  const STATE_EVENTS = new Set(["scan.queued", "scan.started", "scan_complete", "scan.completed", "scan.failed", "scan.cancelled", "phase.started"]);

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs).forEach(([key, value]) => node.setAttribute(key, String(value)));
    return node;
  }

  function drawSeverityChart() {
    const box = document.getElementById("severity-chart");
    const days = JSON.parse(document.getElementById("severity-chart-data").textContent);
    const width = 300;
    const height = 120;
    const barWidth = width / Math.max(days.length, 1);
    const peak = Math.max(1, ...days.map((day) => SEVERITIES.reduce((sum, s) => sum + day[s], 0)));
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, class: "chart", preserveAspectRatio: "none", "aria-hidden": "true" });
    chart.appendChild(svg("line", { x1: 0, x2: width, y1: height, y2: height, class: "axis" }));
    days.forEach((day, index) => {
      let y = height;
      SEVERITIES.forEach((severity) => {
        if (!day[severity]) {
          return;
        }
        const h = (day[severity] / peak) * (height - 6);
        y -= h;
        const rect = svg("rect", { x: index * barWidth + 1, y: y, width: Math.max(barWidth - 2, 1), height: h, class: "sev-fill-" + severity });
        const title = svg("title", {});
        title.textContent = day.day + ": " + day[severity] + " " + severity;
        rect.appendChild(title);
        chart.appendChild(rect);
      });
    });
    document.getElementById("severity-peak").textContent = "peak " + peak + " a day";
    box.replaceChildren(chart);
  }

  let refreshTimer = null;
  function refreshLive() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      try {
        document.getElementById("live-panels").innerHTML = await L.fragment(window.location.pathname + "?partial=live");
      } catch (error) {
        document.getElementById("live-status").textContent = "Live panel refresh failed: " + error.message;
      }
    }, 300);
  }

  function onEvent(event) {
    if (event.event === "progress") {
      const item = document.querySelector('.running-item[data-scan-id="' + CSS.escape(event.scan_id) + '"]');
      if (!item) {
        refreshLive();
        return;
      }
      const bar = item.querySelector("[role=progressbar]");
      bar.setAttribute("aria-valuenow", event.data.percent);
      bar.querySelector(".progress-fill").style.width = event.data.percent + "%";
      item.querySelector(".js-percent").textContent = event.data.percent + "%";
      item.querySelector(".js-phase").textContent = event.data.phase || "";
      return;
    }
    if (STATE_EVENTS.has(event.event)) {
      refreshLive();
    }
  }

  drawSeverityChart();
  const status = document.getElementById("live-status");
  L.liveSocket("/ws/scans/", {
    resumable: false,
    event: onEvent,
    state: (text) => {
      status.textContent = text === "live" ? "Live: running scans and the queue update as events arrive." : "Live updates " + text;
      if (text === "live") {
        refreshLive();
      }
    },
  });
})();
