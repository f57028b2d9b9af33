// Runs in the browser, inlined into report.html and comparison.html after uPlot: draws every chart spec of the
// page's data block (chart-specs.ts) and, once a chart has drawn, records what it drew in
// window.waitlabCharts[id] (points, each series' peak, the marks) for the browser test and for anyone curious.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('waitlab-data').textContent);
  var drawn = {};
  window.waitlabCharts = drawn;
  var fmt = function (v) {
    return v === null || v === undefined ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  };
  var peakOf = function (values) {
    var peak = null;
    for (var i = 0; i < values.length; i++)
      if (values[i] !== null && (peak === null || values[i] > peak)) peak = values[i];
    return peak;
  };

  function plottedValues(spec) {
    // Stacked series are drawn as running sums, each filled down to the one below it.
    var below = null;
    return spec.series.map(function (s) {
      if (!s.stack) return s.values;
      var sums = s.values.map(function (v, j) {
        return (v || 0) + (below ? below[j] : 0);
      });
      below = sums;
      return sums;
    });
  }

  function overlays(spec) {
    return function (u) {
      var ctx = u.ctx;
      var top = u.bbox.top;
      var bottom = u.bbox.top + u.bbox.height;
      var left = u.bbox.left;
      var right = u.bbox.left + u.bbox.width;
      var px = window.devicePixelRatio || 1;
      ctx.save();
      ctx.font = 12 * px + 'px system-ui, sans-serif';
      ctx.lineWidth = 1.5 * px;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'alphabetic';
      var line = function (x1, y1, x2, y2, color, dash) {
        ctx.strokeStyle = color;
        ctx.setLineDash(dash);
        ctx.beginPath();
        ctx.moveTo(x1, y1);
        ctx.lineTo(x2, y2);
        ctx.stroke();
      };
      // A label on a white box, kept inside the plot.
      var label = function (text, x, y, color) {
        var w = ctx.measureText(text).width;
        var tx = Math.min(Math.max(left + 4 * px, x), right - w - 4 * px);
        ctx.fillStyle = 'rgba(255,255,255,0.85)';
        ctx.fillRect(tx - 2 * px, y - 12 * px, w + 4 * px, 16 * px);
        ctx.fillStyle = color;
        ctx.fillText(text, tx, y);
      };
      spec.levels.forEach(function (l) {
        var y = u.valToPos(l.y, 'y', true);
        line(left, y, right, y, l.color, [8 * px, 4 * px]);
        label(l.label, right, y + 16 * px, l.color);
      });
      spec.marks.forEach(function (m, i) {
        var x = u.valToPos(m.x, 'x', true);
        line(x, top, x, bottom, m.color, [3 * px, 3 * px]);
        // Beside its line: after it where it fits, else before it.
        var w = ctx.measureText(m.label).width;
        label(m.label, x + 4 * px + w > right ? x - 4 * px - w : x + 4 * px, bottom - (8 + 18 * i) * px, m.color);
      });
      ctx.restore();
    };
  }

  data.charts.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    var plotted = plottedValues(spec);
    var peaks = spec.series.map(function (s) {
      return peakOf(s.values);
    });
    var stacked = [];
    var series = [
      {
        label: 's',
        value: function (u, v) {
          return v === null ? '-' : v.toFixed(2) + ' s';
        },
      },
    ];
    spec.series.forEach(function (s, i) {
      series.push({
        label: s.label + ' (peak ' + fmt(peaks[i]) + ')',
        stroke: s.color,
        width: 1.5,
        dash: s.dash ? [6, 4] : undefined,
        fill: s.stack ? s.color + '99' : undefined,
        spanGaps: true,
        points: { show: false },
        // The legend shows each series' own value, not its running sum.
        value: function (u, v, si, di) {
          return di === null || di === undefined ? '-' : fmt(spec.series[i].values[di]);
        },
      });
      if (s.stack) stacked.push(i + 1);
    });
    var bands = [];
    for (var k = 1; k < stacked.length; k++) bands.push({ series: [stacked[k], stacked[k - 1]] });
    var levelMax = spec.levels.reduce(function (m, l) {
      return Math.max(m, l.y);
    }, 0);
    var opts = {
      width: Math.max(320, el.clientWidth),
      height: 300,
      series: series,
      bands: bands,
      scales: {
        x: { time: false },
        y: {
          range: function (u, min, max) {
            return [0, Math.max(1, max, levelMax) * 1.08];
          },
        },
      },
      axes: [{ label: 's since the run started' }, { label: spec.y, size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw: [
          overlays(spec),
          function (u) {
            var out = {
              title: spec.title,
              points: u.data[0].length,
              series: {},
              marks: spec.marks.map(function (m) {
                return m.x;
              }),
              levels: spec.levels.map(function (l) {
                return l.y;
              }),
            };
            // A series' points: the values it drew (an overlay of runs leaves nulls where a run had no sample).
            spec.series.forEach(function (s, i) {
              out.series[s.label] = {
                points: u.data[i + 1].filter(function (v) {
                  return v !== null && v !== undefined;
                }).length,
                peak: peaks[i],
              };
            });
            drawn[spec.id] = out;
            el.setAttribute('data-drawn', String(out.points));
          },
        ],
      },
    };
    // uPlot fills down to the band below a stacked series; the first one fills to zero.
    var u = new uPlot(opts, [spec.x].concat(plotted), el);
    el.uplot = u;
  });
  document.body.setAttribute('data-charts', String(data.charts.length));
})();
