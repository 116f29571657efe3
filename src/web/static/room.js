// Rostrum's room screens: the hall display and the remote speaker's timer.
// They subscribe to the hub's display projection (view=display) and draw it; the
// countdown runs here from the turn's times and the hub's clock, measured from
// each frame's `now`. Nothing here applies events or decides a rule.
"use strict";

(function () {
  const page = document.body.dataset.page;
  const path = location.pathname;
  const base = path.slice(0, path.lastIndexOf("/"));
  const session = base.split("/").pop();
  const tokenKey = "rostrum-token-" + session;
  const followKey = "rostrum-follow-" + session;
  const $ = (id) => document.getElementById(id);

  // A token given in the URL is kept for this tab and taken out of the address bar.
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem(tokenKey, params.get("token"));
    history.replaceState(null, "", path);
  }

  let state = null;
  let offsetMs = 0; // the hub's clock minus ours
  let me = null; // a delegate's participant id, from the welcome
  let attempt = 0;
  let socket = null;
  let opened = false;

  // One time format on every screen and page: m:ss, h:mm:ss from an hour,
  // +m:ss in overrun (as the terminal screens and the report show it).
  function clockText(secs) {
    const h = Math.floor(secs / 3600);
    const m = Math.floor(secs / 60) % 60;
    const s = String(secs % 60).padStart(2, "0");
    return h > 0 ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function mmss(ms) {
    return clockText(Math.floor(Math.abs(ms) / 1000));
  }

  function countdownText(remaining) {
    if (remaining >= 0) {
      return clockText(Math.ceil(remaining / 1000));
    }
    return "+" + mmss(remaining);
  }

  function reading(floor) {
    let used = floor.used_ms;
    if (floor.running_since) {
      used += Math.max(0, Date.now() + offsetMs - Date.parse(floor.running_since));
    }
    return floor.allotted_ms - used;
  }

  function followed() {
    if (me) return me;
    return localStorage.getItem(followKey);
  }

  function drawCountdown(el, floor) {
    const remaining = reading(floor);
    el.hidden = false;
    el.textContent = countdownText(remaining);
    el.className = "countdown";
    const stopped = floor.paused || (state && state.point_of_order) || !floor.running_since;
    if (stopped) el.classList.add("stopped");
    else if (remaining < 0) el.classList.add("overrun");
    else if (remaining <= state.warning_secs * 1000) el.classList.add("warning");
  }

  function stateText(floor) {
    if (state.point_of_order) return "POINT OF ORDER: " + state.point_of_order;
    if (floor.paused) return "PAUSED";
    const remaining = reading(floor);
    if (remaining < 0) return "OVERRUN";
    if (remaining <= state.warning_secs * 1000) return "time almost up";
    return "";
  }

  function draw() {
    if (!state) return;
    $("title").textContent = state.title;
    $("segment").textContent = state.segment || "";
    const banner = $("banner");
    banner.hidden = !state.point_of_order;
    banner.textContent = state.point_of_order ? "Point of order raised by " + state.point_of_order : "";
    $("closed").hidden = !state.closed;
    const floor = state.floor;
    $("speaker").textContent = floor ? floor.speaker : "No one holds the floor";
    $("detail").textContent = floor ? floor.kind + " · " + floor.modality : "";
    if (page === "display") {
      if (floor) {
        drawCountdown($("countdown"), floor);
        $("state").textContent = stateText(floor);
      } else {
        $("countdown").hidden = true;
        $("state").textContent = "";
      }
      const next = $("next");
      next.replaceChildren(
        ...state.list.slice(0, 5).map((e) => {
          const li = document.createElement("li");
          li.textContent = e.speaker + " ";
          const how = document.createElement("span");
          how.className = "how";
          how.textContent = e.modality === "in room" ? "" : "(" + e.modality + ")";
          li.appendChild(how);
          return li;
        })
      );
    } else {
      drawSpeaker(floor);
    }
  }

  function drawSpeaker(floor) {
    const who = followed();
    if (me) {
      // A delegate's token: the page follows that delegation, named as the session names it.
      const named = (floor && floor.participant === me ? floor.speaker : null) ||
        (state.list.find((e) => e.participant === me) || {}).speaker;
      if (named) $("who").value = named;
    }
    const names = $("names");
    if (names.childElementCount === 0 || names.dataset.seq !== String(state.seq)) {
      const seen = new Map();
      if (floor) seen.set(floor.participant, floor.speaker);
      state.list.forEach((e) => seen.set(e.participant, e.speaker));
      names.replaceChildren(
        ...[...seen.entries()].map(([id, name]) => {
          const o = document.createElement("option");
          o.value = name;
          o.dataset.id = id;
          return o;
        })
      );
      names.dataset.seq = String(state.seq);
    }
    const countdown = $("countdown");
    if (!who) {
      $("mine").textContent = me === null ? "Choose whom to follow above." : "";
      countdown.hidden = true;
      $("state").textContent = "";
      return;
    }
    if (floor && floor.participant === who) {
      $("mine").textContent = "You have the floor";
      drawCountdown(countdown, floor);
      $("state").textContent = stateText(floor);
      return;
    }
    countdown.hidden = true;
    $("state").textContent = "";
    const mine = state.list.filter((e) => e.participant === who);
    $("mine").textContent = mine.length
      ? mine.map((e) => "You are number " + e.position + " on the list (" + mmss(e.allotted_ms) + "): " + e.reason).join("\n")
      : "You are not on the list of this segment.";
  }

  function setLink(text, down) {
    const link = $("link");
    link.textContent = text;
    link.classList.toggle("down", !!down);
  }

  function connect() {
    const token = sessionStorage.getItem(tokenKey);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let url = scheme + "://" + location.host + base + "?view=display";
    if (token) url += "&token=" + encodeURIComponent(token);
    opened = false;
    socket = new WebSocket(url);
    socket.onopen = () => {
      opened = true;
      attempt = 0;
      setLink("● live", false);
      $("token-form").hidden = true;
    };
    socket.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (frame.now) offsetMs = Date.parse(frame.now) - Date.now();
      if (frame.type === "welcome") {
        me = frame.participant || null;
        if (me && page === "speaker") $("who").disabled = true;
      } else if (frame.type === "display") {
        state = frame.state;
        draw();
      }
    };
    socket.onclose = () => {
      attempt += 1;
      // Never opened and no token: the session is not public; ask once for one.
      if (!opened && attempt >= 2 && !sessionStorage.getItem(tokenKey)) {
        $("token-form").hidden = false;
      }
      const wait = Math.min(2000, 250 * 2 ** Math.min(attempt - 1, 3));
      setLink("reconnecting… (attempt " + attempt + ")", true);
      setTimeout(connect, wait);
    };
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (value) {
      sessionStorage.setItem(tokenKey, value);
      $("token").value = "";
      $("token-form").hidden = true;
      if (socket) socket.close();
    }
  });

  if (page === "speaker") {
    const who = $("who");
    who.addEventListener("change", () => {
      const option = [...$("names").children].find((o) => o.value === who.value);
      if (option) localStorage.setItem(followKey, option.dataset.id);
      draw();
    });
  }

  setInterval(draw, 250);
  connect();
})();
