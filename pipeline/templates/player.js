/* Chapter and timestamp seeking for the episode page (progressive enhancement).
 *
 * Without JavaScript, chapter and transcript links point at the audio file with a media fragment
 * (episode.mp3#t=90), which browsers open at that time. With it:
 *  - chapter links become real buttons (same label: "Play from 01:30 — Title") that seek the
 *    page's player and play;
 *  - [data-seek] links and in-page links to #t=... seek and play instead of navigating, and the page
 *    URL becomes #t=00:01:30 (shareable);
 *  - a page opened at #t=00:01:30 (or #t=90, #t=1:30) starts there (playing waits for the listener);
 *  - the chapter being played is marked with aria-current.
 */
(function () {
  "use strict";

  var audio = document.querySelector("audio[data-player]");
  if (!audio) return;

  function parseTime(value) {
    var text = String(value).replace(/^npt:/, "");
    if (!/^\d+(:\d{1,2}){0,2}(\.\d+)?$/.test(text)) return null;
    return text.split(":").reduce(function (total, part) {
      return total * 60 + parseFloat(part);
    }, 0);
  }

  function fragmentTime(hash) {
    var match = /^#t=([^&,]+)/.exec(hash || "");
    return match ? parseTime(decodeURIComponent(match[1])) : null;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function hms(seconds) {
    var s = Math.floor(seconds);
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  function seek(seconds, play) {
    if (seconds === null || !isFinite(seconds)) return;
    // Before metadata has loaded this sets the default start position; the browser seeks once it can.
    audio.currentTime = seconds;
    if (play) {
      var started = audio.play();
      if (started && started.catch) started.catch(function () {});
    }
  }

  // Chapter links -> buttons (they act on the page, they do not navigate).
  Array.prototype.forEach.call(document.querySelectorAll("a.chapter-seek[data-seek]"), function (link) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = link.className;
    button.setAttribute("data-seek", link.getAttribute("data-seek"));
    button.setAttribute("aria-label", link.getAttribute("aria-label"));
    while (link.firstChild) button.appendChild(link.firstChild);
    link.parentNode.replaceChild(button, link);
  });

  // Seek links: [data-seek] (chapters, transcript) and in-page "#t=..." links (e.g. in the show notes).
  // Handled on click rather than only on hashchange, so a link to the time already in the URL still seeks.
  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var target = event.target.closest ? event.target.closest("[data-seek], a[href^='#t=']") : null;
    if (!target) return;
    var seconds = target.hasAttribute("data-seek")
      ? parseFloat(target.getAttribute("data-seek"))
      : fragmentTime(target.getAttribute("href"));
    if (seconds === null || !isFinite(seconds)) return;
    event.preventDefault();
    seek(seconds, true);
    if (window.history && history.replaceState) history.replaceState(null, "", "#t=" + hms(seconds));
  });

  window.addEventListener("hashchange", function () {
    seek(fragmentTime(location.hash), true);
  });

  // A shared link (#t=...) starts the player there; playing waits for the listener (autoplay rules).
  seek(fragmentTime(location.hash), false);

  var chapters = Array.prototype.map.call(document.querySelectorAll("[data-chapters] > [data-start]"), function (item) {
    return { item: item, start: parseFloat(item.getAttribute("data-start")) };
  });
  var current = null;

  function markChapter() {
    var now = audio.currentTime, found = null;
    for (var i = 0; i < chapters.length; i++) {
      if (chapters[i].start <= now + 0.25) found = chapters[i].item;
    }
    if (found === current) return;
    if (current) current.removeAttribute("aria-current");
    if (found) found.setAttribute("aria-current", "true");
    current = found;
  }

  if (chapters.length) {
    audio.addEventListener("timeupdate", markChapter);
    audio.addEventListener("seeked", markChapter);
  }
})();
