// Shows every <time datetime> in the viewer's own time zone, keeping the
// UTC time in its title (shown on hover). Without JavaScript the page shows
// UTC, which is also correct.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) { return; }
    el.title = el.textContent;
    el.textContent = fmt.format(d);
  });
});
