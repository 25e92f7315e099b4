/* The session page's meeting clock and htmx glue. No library: the page works without it (the
   server renders the clock as of the page load and every form posts plainly). */
(function () {
  "use strict";

  function mmss(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  // The clock runs from the meeting's start time on the server, corrected for this machine's
  // clock, so a reload (or a laptop with the wrong time) never resets or skews it.
  function startClock(clock) {
    var started = Date.parse(clock.dataset.startedAt);
    var skew = Date.parse(clock.dataset.now) - Date.now();
    var blocks = Array.prototype.map.call(document.querySelectorAll("[data-block-start]"), function (el) {
      return {
        el: el,
        number: Number(el.dataset.blockNumber),
        title: el.dataset.blockTitle,
        start: Number(el.dataset.blockStart) * 60,
        end: Number(el.dataset.blockEnd) * 60
      };
    });
    var planned = blocks.length ? blocks[blocks.length - 1].end : Number(clock.dataset.planned) * 60;
    var part = function (name) { return clock.querySelector("[data-clock=" + name + "]"); };

    function tick() {
      var elapsed = (Date.now() + skew - started) / 1000;
      var current = null;
      blocks.forEach(function (block) {
        var isCurrent = block.start <= elapsed && elapsed < block.end;
        if (isCurrent) { current = block; }
        block.el.classList.toggle("po-block-current", isCurrent);
        block.el.classList.toggle("po-block-past", elapsed >= block.end);
        if (isCurrent) { block.el.setAttribute("aria-current", "step"); } else { block.el.removeAttribute("aria-current"); }
        var badge = block.el.querySelector("[data-now-badge]");
        if (badge) { badge.hidden = !isCurrent; }
      });
      part("elapsed").textContent = mmss(elapsed);
      var left = part("left");
      if (current) {
        part("block").textContent = fill(clock.dataset.textNow, { block: current.number + ". " + current.title });
        left.textContent = fill(clock.dataset.textLeft, { time: mmss(current.end - elapsed) });
      } else {
        part("block").textContent = "";
        left.textContent = elapsed >= planned ? fill(clock.dataset.textOver, { time: mmss(elapsed - planned) }) : "";
      }
      left.classList.toggle("po-over", !current && elapsed >= planned);
      // New records default to the block the meeting is in, unless the person chose one.
      document.querySelectorAll("select[data-follow-clock]:not([data-touched])").forEach(function (select) {
        select.value = current ? current.title : "";
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-follow-clock]")) {
      event.target.dataset.touched = "1";
    }
  });

  // A refusal that is not a form error (403, 404, 500) is said out loud instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("meeting-errors");
    if (!box) { return; }
    var status = event.detail.xhr.status;
    box.textContent = status === 403 ? box.dataset.text403 : fill(box.dataset.textOther, { status: status });
    box.classList.remove("visually-hidden");
    box.classList.add("alert", "alert-danger");
  });

  document.addEventListener("DOMContentLoaded", function () {
    var clock = document.getElementById("meeting-clock");
    if (clock && clock.dataset.startedAt) { startClock(clock); }
  });
})();
