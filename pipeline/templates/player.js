/* The site's player: progressive enhancement over the native <audio controls>.
 *
 * Without JavaScript the page keeps the browser's own player, chapter and transcript links point at the
 * audio file with a media fragment (episode.mp3#t=90), and the transcript is plain text. With it:
 *  - the native controls give way to ours: play/pause, back 15 s, forward 30 s, speed 0.75x-2x
 *    (remembered), a seek slider (aria-valuetext in minutes and seconds) with chapter marks, and the
 *    current chapter's title;
 *  - keys (outside text fields): space or K play/pause, J back 15 s, L forward 30 s, left/right 5 s;
 *  - the position is remembered per episode and offered as "Resume at 12:34";
 *  - the Media Session API gets title, show, artwork, chapter and previous/next chapter handlers;
 *  - chapter links become buttons; [data-seek] and in-page #t= links seek; #t=MM:SS, #t=SECONDS and
 *    #t=H:MM:SS start the page there (playing waits for the listener); the URL follows seeks;
 *  - the transcript highlights the paragraph being heard, keeps it in view unless the listener has
 *    scrolled away, seeks on a click, and can be searched;
 *  - on the index, each card gets a play button that plays the episode in a player docked to the page.
 */
(function () {
  "use strict";

  var SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  var STORE = "podcast-player:";
  var ICONS = {
    play: "M8 5.1v13.8L19 12z",
    pause: "M6 5h4v14H6zm8 0h4v14h-4z",
    back: "M12 5V2L7 6l5 4V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z",
    fwd: "M12 5V2l5 4-5 4V7a6 6 0 1 0 6 6h2a8 8 0 1 1-8-8z",
  };

  // ------------------------------------------------------------------ small helpers

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

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }

  function spoken(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    var parts = [];
    if (h) parts.push(h + (h === 1 ? " hour" : " hours"));
    if (h || m) parts.push(m + (m === 1 ? " minute" : " minutes"));
    parts.push((s % 60) + (s % 60 === 1 ? " second" : " seconds"));
    return parts.join(" ");
  }

  // Nothing is worth resuming in the first or last few seconds (a tenth of a short clip).
  function worthResuming(t, d) {
    return isFinite(t) && isFinite(d) && t >= Math.min(5, d / 10) && t < d - Math.min(10, d / 10);
  }

  function load(key) {
    try { return window.localStorage.getItem(STORE + key); } catch (e) { return null; }
  }

  function save(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(STORE + key);
      else window.localStorage.setItem(STORE + key, String(value));
    } catch (e) { /* storage off or full: nothing is remembered */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function svg(name) {
    var ns = "http://www.w3.org/2000/svg", s = document.createElementNS(ns, "svg"), p = document.createElementNS(ns, "path");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("width", "22");
    s.setAttribute("height", "22");
    s.setAttribute("aria-hidden", "true");
    s.setAttribute("focusable", "false");
    s.setAttribute("class", "icon");
    p.setAttribute("fill", "currentColor");
    p.setAttribute("d", ICONS[name]);
    s.appendChild(p);
    return s;
  }

  // Starts playback; `settled` runs again if the browser refuses or fails (the promise rejects).
  function play(audio, settled) {
    var started = audio.play();
    if (started && started.catch) started.catch(function () { if (settled) settled(); });
  }

  // ------------------------------------------------------------------ the player

  function Player(audio, chapters) {
    var self = this;
    this.audio = audio;
    this.chapters = chapters;
    this.key = audio.getAttribute("data-episode") || "";
    this.chapterIndex = -1;
    this.lastSaved = 0;

    var b = this.ui = {
      back: el("button", { type: "button", class: "pl-btn pl-skip", "aria-label": "Back 15 seconds", title: "Back 15 seconds (J)" }, [svg("back"), el("span", { class: "pl-skip-n", text: "15", "aria-hidden": "true" })]),
      toggle: el("button", { type: "button", class: "pl-btn pl-play", "aria-label": "Play", title: "Play (space or K)" }, [svg("play")]),
      fwd: el("button", { type: "button", class: "pl-btn pl-skip", "aria-label": "Forward 30 seconds", title: "Forward 30 seconds (L)" }, [svg("fwd"), el("span", { class: "pl-skip-n", text: "30", "aria-hidden": "true" })]),
      now: el("span", { class: "pl-now", text: "0:00" }),
      total: el("span", { class: "pl-total", text: "0:00" }),
      speed: el("select", { class: "pl-speed", "aria-label": "Playback speed" }),
      seek: el("input", { type: "range", class: "pl-seek", min: "0", max: "0", step: "1", value: "0", "aria-label": "Position", "aria-valuetext": "0 seconds" }),
      marks: el("div", { class: "pl-marks", "aria-hidden": "true" }),
      chapter: el("p", { class: "pl-chapter" }),
      resume: el("button", { type: "button", class: "pl-resume" }),
    };
    SPEEDS.forEach(function (rate) {
      b.speed.appendChild(el("option", { value: String(rate), text: rate + "×" }));
    });
    b.resumeRow = el("p", { class: "pl-resume-row", hidden: "" }, [b.resume]);
    this.root = el("div", { class: "pl", role: "group", "aria-label": "Audio player" }, [
      el("div", { class: "pl-row" }, [
        b.back, b.toggle, b.fwd,
        el("p", { class: "pl-time" }, [b.now, el("span", { class: "pl-sep", text: " / ", "aria-hidden": "true" }), b.total]),
        b.speed,
      ]),
      el("div", { class: "pl-bar" }, [b.seek, b.marks]),
      b.chapter,
      b.resumeRow,
    ]);
    audio.removeAttribute("controls");
    audio.insertAdjacentElement("afterend", this.root);
    var wave = audio.closest(".player").querySelector(".waveform");  // the page's SVG goes behind the slider
    if (wave) this.root.querySelector(".pl-bar").insertBefore(wave, b.seek);
    audio.closest(".player").classList.add("is-enhanced");

    var rate = parseFloat(load("speed"));
    this.setSpeed(SPEEDS.indexOf(rate) >= 0 ? rate : 1);

    b.toggle.addEventListener("click", function () { self.toggle(); });
    b.back.addEventListener("click", function () { self.skip(-15); });
    b.fwd.addEventListener("click", function () { self.skip(30); });
    b.speed.addEventListener("change", function () { self.setSpeed(parseFloat(b.speed.value)); });
    b.seek.addEventListener("input", function () { self.seek(parseFloat(b.seek.value)); });
    b.seek.addEventListener("keydown", function (event) {
      var step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 }[event.key];
      if (step === undefined) return;
      event.preventDefault();
      event.stopPropagation();
      self.skip(step);
    });
    b.resume.addEventListener("click", function () {
      self.seek(parseFloat(b.resume.getAttribute("data-at")), true);
      b.resumeRow.hidden = true;
      b.toggle.focus();
    });

    ["loadedmetadata", "durationchange"].forEach(function (name) {
      audio.addEventListener(name, function () { self.layout(); });
    });
    ["timeupdate", "seeked"].forEach(function (name) {
      audio.addEventListener(name, function () { self.tick(); });
    });
    ["play", "pause"].forEach(function (name) {
      audio.addEventListener(name, function () { self.state(); self.remember(true); });
    });
    ["loadedmetadata", "seeked", "ratechange", "play", "pause"].forEach(function (name) {
      audio.addEventListener(name, function () { self.positionState(); });
    });
    audio.addEventListener("ratechange", function () {
      if (SPEEDS.indexOf(audio.playbackRate) >= 0) b.speed.value = String(audio.playbackRate);
    });
    audio.addEventListener("ended", function () { save("pos:" + self.key, null); });
    window.addEventListener("pagehide", function () { self.remember(true); });
    this.mediaSession();
    this.layout();
    this.tick();
    this.state();
  }

  // The button follows `paused` at once: play() flips it synchronously but fires "play" a task later,
  // and a listener (or a screen reader) acting in between must not meet a stale "Play" label.
  Player.prototype.toggle = function () {
    var self = this;
    if (this.audio.paused) play(this.audio, function () { self.state(); });
    else this.audio.pause();
    this.state();
  };

  Player.prototype.seek = function (seconds, andPlay) {
    if (seconds === null || !isFinite(seconds)) return;
    var d = this.audio.duration;
    // Before metadata has loaded this sets the default start position; the browser seeks once it can.
    this.audio.currentTime = Math.max(0, isFinite(d) && d > 0 ? Math.min(seconds, d) : seconds);
    this.ui.resumeRow.hidden = true;
    if (andPlay) {
      var self = this;
      play(this.audio, function () { self.state(); });
      this.state();
    }
    this.tick();
  };

  Player.prototype.skip = function (delta) {
    this.seek(this.audio.currentTime + delta);
  };

  Player.prototype.setSpeed = function (rate) {
    this.audio.defaultPlaybackRate = rate;
    this.audio.playbackRate = rate;
    this.ui.speed.value = String(rate);
    save("speed", rate);
  };

  Player.prototype.layout = function () {
    var d = this.audio.duration, b = this.ui, self = this;
    if (!isFinite(d) || d <= 0) return;
    b.seek.max = String(Math.floor(d));
    b.total.textContent = clock(Math.round(d));
    b.marks.textContent = "";
    this.chapters.forEach(function (chapter, i) {
      if (i === 0 || chapter.start >= d) return;
      var mark = el("button", { type: "button", class: "pl-mark", tabindex: "-1", title: chapter.title });
      mark.style.left = (100 * chapter.start / d) + "%";
      mark.addEventListener("click", function () { self.seek(chapter.start, true); });
      b.marks.appendChild(mark);
    });
    this.offerResume();
    this.tick();
  };

  Player.prototype.tick = function () {
    var t = this.audio.currentTime, d = this.audio.duration, b = this.ui;
    b.now.textContent = clock(t);
    b.seek.value = String(Math.floor(t));
    b.seek.setAttribute("aria-valuetext", spoken(t) + (isFinite(d) && d > 0 ? " of " + spoken(Math.round(d)) : ""));
    b.seek.style.setProperty("--pct", (isFinite(d) && d > 0 ? (100 * t / d) : 0) + "%");
    var index = -1;
    for (var i = 0; i < this.chapters.length; i++) if (this.chapters[i].start <= t + 0.25) index = i;
    if (index !== this.chapterIndex) {
      this.chapterIndex = index;
      this.chapters.forEach(function (chapter, j) {
        if (j === index) chapter.item.setAttribute("aria-current", "true");
        else chapter.item.removeAttribute("aria-current");
      });
      b.chapter.textContent = index >= 0 ? "Chapter " + (index + 1) + " of " + this.chapters.length + ": " + this.chapters[index].title : "";
      this.metadata();
    }
    if (this.onTick) this.onTick(t);
    this.remember(false);
  };

  Player.prototype.positionState = function () {
    var a = this.audio, d = a.duration;
    if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState || !isFinite(d) || d <= 0) return;
    try {
      navigator.mediaSession.setPositionState({ duration: d, playbackRate: a.playbackRate || 1, position: Math.min(a.currentTime, d) });
    } catch (e) { /* a browser that rejects the values: the lock screen shows no scrubber */ }
  };

  Player.prototype.state = function () {
    var paused = this.audio.paused, b = this.ui;
    b.toggle.replaceChild(svg(paused ? "play" : "pause"), b.toggle.firstChild);
    b.toggle.setAttribute("aria-label", paused ? "Play" : "Pause");
    b.toggle.title = (paused ? "Play" : "Pause") + " (space or K)";
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = paused ? "paused" : "playing";
    if (this.onState) this.onState(paused);
  };

  Player.prototype.remember = function (now) {
    var t = this.audio.currentTime, d = this.audio.duration;
    if (!this.key || !isFinite(d) || d <= 0) return;
    if (!now && Math.abs(t - this.lastSaved) < 2) return;
    this.lastSaved = t;
    save("pos:" + this.key, worthResuming(t, d) ? t.toFixed(1) : null);
  };

  Player.prototype.offerResume = function () {
    var at = parseFloat(load("pos:" + this.key)), d = this.audio.duration, b = this.ui;
    if (this.offered || !this.key) return;
    this.offered = true;
    if (!worthResuming(at, d) || this.audio.currentTime > 1) return;
    b.resume.setAttribute("data-at", String(at));
    b.resume.textContent = "Resume at " + clock(at);
    b.resumeRow.hidden = false;
  };

  Player.prototype.metadata = function () {
    if (!("mediaSession" in navigator) || typeof window.MediaMetadata !== "function") return;
    var a = this.audio, chapter = this.chapters[this.chapterIndex];
    var art = a.getAttribute("data-artwork");
    navigator.mediaSession.metadata = new window.MediaMetadata({
      title: a.getAttribute("data-title") || document.title,
      artist: a.getAttribute("data-show") || "",
      album: chapter ? chapter.title : a.getAttribute("data-show") || "",
      artwork: art ? [{ src: new URL(art, location.href).href }] : [],
    });
  };

  Player.prototype.chapterJump = function (delta) {
    var i = this.chapterIndex, t = this.audio.currentTime;
    if (delta < 0 && i >= 0 && t - this.chapters[i].start > 3) delta = 0; // restart this chapter first
    var target = this.chapters[Math.max(0, Math.min(this.chapters.length - 1, i + delta))];
    if (target) this.seek(target.start, !this.audio.paused);
  };

  Player.prototype.mediaSession = function () {
    if (!("mediaSession" in navigator)) return;
    var self = this, a = this.audio, handlers = {
      play: function () { play(a); },
      pause: function () { a.pause(); },
      seekbackward: function (d) { self.skip(-((d && d.seekOffset) || 15)); },
      seekforward: function (d) { self.skip((d && d.seekOffset) || 30); },
      seekto: function (d) { self.seek(d.seekTime); },
      previoustrack: this.chapters.length ? function () { self.chapterJump(-1); } : null,
      nexttrack: this.chapters.length ? function () { self.chapterJump(1); } : null,
    };
    Object.keys(handlers).forEach(function (name) {
      try { navigator.mediaSession.setActionHandler(name, handlers[name]); } catch (e) { /* unsupported action */ }
    });
    this.metadata();
  };

  // ------------------------------------------------------------------ keyboard

  function keyboard(getPlayer) {
    document.addEventListener("keydown", function (event) {
      var player = getPlayer();
      if (!player || event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
      var target = event.target, tag = target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return;
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (key === " " && (tag === "BUTTON" || tag === "A" || tag === "SUMMARY")) return; // activates it
      var actions = {
        " ": function () { player.toggle(); },
        k: function () { player.toggle(); },
        j: function () { player.skip(-15); },
        l: function () { player.skip(30); },
        ArrowLeft: function () { player.skip(-5); },
        ArrowRight: function () { player.skip(5); },
      };
      if (!actions[key]) return;
      event.preventDefault();
      actions[key]();
    });
  }

  // ------------------------------------------------------------------ the transcript

  function Transcript(section, player) {
    var body = section.querySelector(".transcript-body");
    var cues = [];
    var paras = Array.prototype.map.call(section.querySelectorAll(".transcript-para"), function (p) {
      var said = p.querySelector(".said"), ts = p.querySelector("[data-seek]");
      var para = { el: p, text: said ? said.textContent : "", start: ts ? parseFloat(ts.getAttribute("data-seek")) : 0 };
      var spans = said ? said.querySelectorAll(".cue[data-start]") : [];
      para.parts = spans.length ? Array.prototype.slice.call(spans) : said ? [said] : [];
      para.parts.forEach(function (node) {
        node.setAttribute("data-text", node.textContent);
        cues.push({ el: node, para: para, start: node.hasAttribute("data-start") ? parseFloat(node.getAttribute("data-start")) : para.start });
      });
      return para;
    });
    if (!body || !cues.length) return;
    var current = null, follow = true, touched = 0;
    var input = el("input", { type: "search", class: "ts-search", id: "transcript-search", placeholder: "Search the transcript", autocomplete: "off" });
    var label = el("label", { for: "transcript-search", class: "visually-hidden", text: "Search the transcript" });
    var count = el("span", { class: "ts-count", role: "status" });
    var resume = el("button", { type: "button", class: "ts-follow", hidden: "", text: "Follow the audio" });
    body.parentNode.insertBefore(el("div", { class: "ts-tools" }, [label, input, count, resume]), body);
    body.classList.add("is-following");

    function visible(node) {
      var box = body.getBoundingClientRect(), r = node.getBoundingClientRect();
      return r.bottom > box.top && r.top < box.bottom;
    }

    function reveal(node) {
      if (!body.clientHeight || node.closest("[hidden]")) return;
      var box = body.getBoundingClientRect(), r = node.getBoundingClientRect();
      var top = body.scrollTop + (r.top - box.top) - body.clientHeight / 3;
      if (Math.abs(top - body.scrollTop) < 4) return;
      body.scrollTop = Math.max(0, top);
    }

    // A scroll is the listener's when it follows their wheel, touch, keys or scrollbar; ours are not.
    ["wheel", "touchmove", "keydown", "pointerdown"].forEach(function (name) {
      body.addEventListener(name, function () { touched = Date.now(); }, { passive: true });
    });
    body.addEventListener("scroll", function () {
      if (Date.now() - touched > 1000) return;
      follow = current !== null && visible(current.el);
      resume.hidden = follow;
    });
    resume.addEventListener("click", function () {
      follow = true;
      resume.hidden = true;
      if (current) reveal(current.el);
    });
    var details = section.querySelector("details");
    if (details) details.addEventListener("toggle", function () {
      if (details.open && follow && current) reveal(current.el);
    });
    // Clicking the words (not only the timestamp) seeks there.
    body.addEventListener("click", function (event) {
      var cue = event.target.closest ? event.target.closest(".cue[data-start]") : null;
      if (cue && !window.getSelection().toString()) player.seek(parseFloat(cue.getAttribute("data-start")), true);
    });

    player.onTick = function (t) {
      var found = null;
      for (var i = 0; i < cues.length; i++) if (cues[i].start <= t + 0.25) found = cues[i];
      if (found === current) return;
      if (current) {
        current.el.classList.remove("is-current");
        current.para.el.classList.remove("is-current");
        current.para.el.removeAttribute("aria-current");
      }
      current = found;
      if (!current) return;
      current.el.classList.add("is-current");
      current.para.el.classList.add("is-current");
      current.para.el.setAttribute("aria-current", "time");
      if (follow) reveal(current.el);
    };

    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      paras.forEach(function (p) {
        var lower = p.text.toLowerCase();
        var hit = words.every(function (w) { return lower.indexOf(w) >= 0; });
        p.el.hidden = !hit;
        if (hit) shown++;
        p.parts.forEach(function (node) { highlight(node, node.getAttribute("data-text"), hit ? words : []); });
      });
      count.textContent = words.length ? shown + " of " + paras.length + (paras.length === 1 ? " paragraph" : " paragraphs") : "";
    });
  }

  function highlight(node, text, words) {
    node.textContent = "";
    if (!words.length) { node.textContent = text; return; }
    var pattern = new RegExp("(" + words.map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }).join("|") + ")", "gi");
    text.split(pattern).forEach(function (part, i) {
      if (part) node.appendChild(i % 2 ? el("mark", { text: part }) : document.createTextNode(part));
    });
  }

  // ------------------------------------------------------------------ the episode page

  function readChapters() {
    return Array.prototype.map.call(document.querySelectorAll("[data-chapters] > [data-start]"), function (item) {
      var title = item.querySelector(".chapter-title");
      return { item: item, start: parseFloat(item.getAttribute("data-start")), title: title ? title.textContent : "" };
    });
  }

  function episodePage(audio) {
    var player = new Player(audio, readChapters());

    // Chapter links -> buttons (they act on the page, they do not navigate).
    Array.prototype.forEach.call(document.querySelectorAll("a.chapter-seek[data-seek]"), function (link) {
      var button = el("button", { type: "button", class: link.className, "data-seek": link.getAttribute("data-seek"), "aria-label": link.getAttribute("aria-label") });
      while (link.firstChild) button.appendChild(link.firstChild);
      link.parentNode.replaceChild(button, link);
    });

    // [data-seek] (chapters, transcript) and in-page "#t=..." links (e.g. in the show notes) seek.
    // Handled on click rather than only on hashchange, so a link to the time already in the URL still seeks.
    document.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      var target = event.target.closest ? event.target.closest("[data-seek], a[href^='#t=']") : null;
      if (!target) return;
      var seconds = target.hasAttribute("data-seek") ? parseFloat(target.getAttribute("data-seek")) : fragmentTime(target.getAttribute("href"));
      if (seconds === null || !isFinite(seconds)) return;
      event.preventDefault();
      player.seek(seconds, true);
      if (window.history && history.replaceState) history.replaceState(null, "", "#t=" + hms(seconds));
    });

    window.addEventListener("hashchange", function () {
      player.seek(fragmentTime(location.hash), true);
    });

    // A shared link (#t=...) starts the player there; playing waits for the listener (autoplay rules).
    var start = fragmentTime(location.hash);
    if (start !== null) {
      player.offered = true; // the link's time wins over a remembered one
      player.seek(start, false);
    }

    var section = document.getElementById("transcript");
    if (section) Transcript(section, player);
    keyboard(function () { return player; });
  }

  // ------------------------------------------------------------------ the index: play in place

  // A card learns its audio from the episode page's player (fetched on first interest), so the index
  // never changes when an episode's audio (and so its content-addressed URL) does.
  var FIELDS = ["data-episode", "data-title", "data-show", "data-artwork"];

  function resolve(card) {
    if (!card.info) {
      card.info = fetch(card.url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var a = doc.querySelector("audio[data-player]"), source = a && a.querySelector("source[src]");
        if (!source) throw new Error("no player on " + card.url);
        var base = new URL(card.url, location.href), info = { src: new URL(source.getAttribute("src"), base).href };
        FIELDS.forEach(function (name) {
          var value = a.getAttribute(name) || "";
          info[name] = name === "data-artwork" && value ? new URL(value, base).href : value;
        });
        return info;
      });
      card.info.catch(function () { card.info = null; });
    }
    return card.info;
  }

  function indexPage(cards) {
    var player = null, dock = null, dockTitle = null, playing = null;

    function labelCards() {
      cards.forEach(function (card) {
        var on = playing === card && player && !player.audio.paused;
        card.button.replaceChild(svg(on ? "pause" : "play"), card.button.firstChild);
        card.button.lastChild.textContent = on ? "Pause" : "Play";
        card.button.setAttribute("aria-label", (on ? "Pause " : "Play ") + card.title);
        card.button.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    function open(card, info) {
      if (!dock) {
        var audio = el("audio", { preload: "metadata", "data-player": "" });
        dockTitle = el("a", { class: "dock-title" });
        dock = el("section", { class: "dock", "aria-label": "Now playing" }, [
          el("div", { class: "wrap dock-inner" }, [el("p", { class: "dock-head" }, [el("span", { class: "dock-label", text: "Now playing" }), dockTitle]), el("div", { class: "player" }, [audio])]),
        ]);
        document.body.appendChild(dock);
        document.body.classList.add("has-dock");
        player = new Player(audio, []);
        player.onState = labelCards;
        keyboard(function () { return player; });
      }
      var a = player.audio;
      FIELDS.forEach(function (name) { a.setAttribute(name, info[name]); });
      player.key = info["data-episode"];
      player.offered = true;
      a.src = info.src;
      player.setSpeed(parseFloat(player.ui.speed.value));
      var at = parseFloat(load("pos:" + player.key));
      if (isFinite(at) && at > 0) a.currentTime = at; // the listener asked for this episode: carry on
      dockTitle.textContent = info["data-title"] || card.title;
      dockTitle.href = card.url;
      playing = card;
      player.metadata();
      play(a);
    }

    cards.forEach(function (card) {
      card.button = el("button", { type: "button", class: "card-play" }, [svg("play"), el("span", { text: "Play" })]);
      ["pointerenter", "focus"].forEach(function (name) {
        card.button.addEventListener(name, function () { resolve(card).catch(function () {}); });
      });
      card.button.addEventListener("click", function () {
        if (playing === card && player) {
          player.toggle();
          return;
        }
        card.button.setAttribute("aria-busy", "true");
        resolve(card).then(function (info) {
          open(card, info);
        }, function () {
          location.href = card.url; // the page has a player of its own
        }).then(function () {
          card.button.removeAttribute("aria-busy");
          labelCards();
        });
      });
      var cta = card.el.querySelector(".episode-card-cta");
      if (cta) cta.parentNode.replaceChild(card.button, cta);
      else card.el.appendChild(card.button);
    });
    labelCards();
  }

  var audio = document.querySelector("audio[data-player]");
  if (audio) {
    episodePage(audio);
    return;
  }
  var cards = [];
  Array.prototype.forEach.call(document.querySelectorAll(".episode-card"), function (card) {
    var link = card.querySelector(".episode-card-title a[href]");
    if (link && window.fetch && window.DOMParser) cards.push({ el: card, title: link.textContent, url: link.getAttribute("href") });
  });
  if (cards.length) indexPage(cards);
})();

/* Click-to-load video (issue 10): the page loads nothing from the video's site until the listener presses
 * play on the poster; then the embed replaces it and starts. Without JavaScript the poster is a link. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-video-src]"), function (frame) {
    var link = frame.querySelector("a.video-load");
    if (!link) return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var src = frame.getAttribute("data-video-src");
      var iframe = document.createElement("iframe");
      iframe.src = src + (src.indexOf("?") < 0 ? "?" : "&") + "autoplay=1";
      iframe.title = frame.getAttribute("data-video-title") || "Video";
      iframe.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
      iframe.referrerPolicy = "strict-origin-when-cross-origin";
      iframe.setAttribute("allowfullscreen", "");
      frame.replaceChildren(iframe);
      frame.classList.remove("video-poster");
      iframe.focus();
    });
  });
})();
