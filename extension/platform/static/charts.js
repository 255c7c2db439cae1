/* Coachwire chart pages: ECharts from the page's JSON block, no inline handlers (CSP).
 *
 * A trend chart reads <script type="application/json" id="trend-data"> and draws into
 * #trend-chart with the SVG renderer and a rich-text tooltip (no HTML tooltip, so no inline
 * style attributes); selecting a measured point opens its interactions. The table beside the
 * chart carries the same numbers, so the chart is never the only carrier.
 */
(function () {
  "use strict";

  function trendOption(data) {
    var series = [
      {
        name: data.names.actual, type: "line", data: data.values, connectNulls: false,
        symbol: "circle", symbolSize: 8, lineStyle: { width: 2 }, itemStyle: { color: "#1f63a8" }
      }
    ];
    if (data.forecast && data.forecast.length) {
      series.push({
        name: data.names.forecast, type: "line", data: data.forecast, symbol: "triangle",
        symbolSize: 8, lineStyle: { type: "dashed", width: 2 }, itemStyle: { color: "#6b4c9a" }
      });
      // the band: the low bound invisible, the high-minus-low stacked on it and shaded
      series.push({
        name: data.names.band, type: "line", stack: "band", data: data.lo, symbol: "none",
        lineStyle: { opacity: 0 }, silent: true
      });
      series.push({
        name: data.names.band, type: "line", stack: "band", symbol: "none", silent: true,
        data: data.hi.map(function (hi, i) { return hi === null || data.lo[i] === null ? null : hi - data.lo[i]; }),
        lineStyle: { opacity: 0 }, areaStyle: { color: "#6b4c9a", opacity: 0.18 }
      });
    }
    return {
      aria: { enabled: true, decal: { show: true } },
      animation: false,
      grid: { left: 56, right: 16, top: 40, bottom: 48 },
      legend: { top: 0, type: "scroll", data: [data.names.actual, data.names.forecast, data.names.band] },
      tooltip: {
        trigger: "axis", renderMode: "richText",
        formatter: function (params) {
          var lines = [];
          params.forEach(function (item) {
            if (item.seriesIndex === 0 && item.value !== null && item.value !== undefined) {
              lines.push(item.axisValue + ": " + Number(item.value).toFixed(2) + " (" +
                         data.names.n + " = " + data.volumes[item.dataIndex] + ")");
            } else if (item.seriesIndex === 1 && item.value !== null && item.value !== undefined &&
                       item.dataIndex >= data.volumes.length) {
              lines.push(item.axisValue + ": " + data.names.forecast + " " + Number(item.value).toFixed(2) +
                         " (" + Number(data.lo[item.dataIndex]).toFixed(2) + "–" +
                         Number(data.hi[item.dataIndex]).toFixed(2) + ")");
            }
          });
          return lines.join("\n");
        }
      },
      xAxis: { type: "category", data: data.labels, boundaryGap: false },
      yAxis: { type: "value", scale: true },  // the metric is the heading above the chart
      series: series
    };
  }

  function drawTrend() {
    var holder = document.getElementById("trend-chart");
    var source = document.getElementById("trend-data");
    if (!holder || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var previous = window.echarts.getInstanceByDom(holder);
    if (previous) { previous.dispose(); }
    var chart = window.echarts.init(holder, null, { renderer: "svg" });
    chart.setOption(trendOption(data));
    chart.on("click", function (params) {
      if (params.seriesIndex === 0 && data.urls[params.dataIndex]) {
        window.location.assign(data.urls[params.dataIndex]);
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    holder.setAttribute("data-ready", "true");
  }

  // changing the level makes the picked id meaningless: send the form without it
  function resetOnChange() {
    document.querySelectorAll("select[data-resets]").forEach(function (select) {
      select.addEventListener("change", function () {
        var form = select.form;
        var other = form.querySelector("[name='" + select.getAttribute("data-resets") + "']");
        if (other) { other.disabled = true; }
        form.submit();
      });
    });
  }

  function start() {
    resetOnChange();
    drawTrend();
    document.addEventListener("htmx:after:swap", drawTrend);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
