// Rostrum's room screens: the hall display and the remote speaker's timer.
// They subscribe to the hub's display projection (view=display) and draw it in the
// page's language; the countdown runs here from the turn's times and the hub's
// clock, whose offset is measured by pings as the terminal clients measure it.
// A delegate's speaker page also draws what the hub says the delegate may do now
// (`moves`) and sends the commands the hub handed it. Nothing here applies events
// or decides a rule.
"use strict";

(function () {
  const page = document.body.dataset.page;
  const path = location.pathname;
  const base = path.slice(0, path.lastIndexOf("/"));
  const session = base.split("/").pop();
  const tokenKey = "rostrum-token-" + session;
  const followKey = "rostrum-follow-" + session;
  const langKey = "rostrum-lang";
  const soundKey = "rostrum-alert-sound";
  const flashKey = "rostrum-alert-flash";
  const LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"];
  const $ = (id) => document.getElementById(id);

  // A token given in the URL is kept for this tab and taken out of the address bar
  // (the rest of the address, such as the language, stays).
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem(tokenKey, params.get("token"));
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", path + (rest ? "?" + rest : ""));
  }

  // The page's language: ?lang=, else (the speaker's page) the one chosen last, else English.
  // "AR", "fr-CA" and "zh-Hans" read as ar, fr and zh; any other as English.
  let lang = (params.get("lang") || (page === "speaker" ? localStorage.getItem(langKey) : null) || "en")
    .toLowerCase()
    .split(/[-_]/)[0];
  if (!LANGUAGES.includes(lang)) lang = "en";
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
  let labels = null;

  let state = null;
  let moves = null; // a delegate's moves, from the hub
  let movesShown = ""; // the moves drawn, to redraw only when they change
  let offsetMs = 0; // the hub's clock minus ours
  let measured = null; // { offset, rtt } of the best recent ping
  let me = null; // a delegate's participant id, from the welcome
  let attempt = 0;
  let socket = null;
  let opened = false;
  let refused = false; // the hub answered and refused the token
  // A session kept in etcd is served by several hubs: the welcome of the hub that
  // served this page lists them (session URLs, that hub first). When it cannot be
  // reached, the page tries the next; the hub security policy lets it connect to
  // those it listed when the page was served.
  let hubs = [];
  let hubAt = 0;
  let pings = new Map();
  let pingCount = 0;
  let commandCount = 0;
  const pending = new Map();

  // The page's words, from its language's file; {name} placeholders filled in.
  function t(key, vars) {
    let text = digits((labels && labels[key]) || key);
    // Numbers and times take the page's digits; names are written as the roster writes them ("G77").
    for (const [k, v] of Object.entries(vars || {})) {
      const value = /^[+\-]?[\d:.]+$/.test(String(v)) ? digits(String(v)) : String(v);
      text = text.split("{" + k + "}").join(value);
    }
    return text;
  }

  // Arabic-Indic digits on the Arabic pages when the session file asks for them.
  function digits(text) {
    if (lang !== "ar" || !state || state.numerals !== "arab") return text;
    return String(text).replace(/[0-9]/g, (d) => "٠١٢٣٤٥٦٧٨٩"[d]);
  }

  function languageName(code) {
    try {
      return new Intl.DisplayNames([lang], { type: "language" }).of(code) || code;
    } catch (e) {
      return code;
    }
  }

  function translateStatic() {
    document.querySelectorAll("[data-t]").forEach((el) => {
      el.textContent = t(el.dataset.t);
    });
    document.querySelectorAll("[data-t-placeholder]").forEach((el) => {
      el.placeholder = t(el.dataset.tPlaceholder);
    });
    if (!state) $("speaker").textContent = t("no_floor");
  }

  // Names are fitted to their boxes once per text and size: again when a font arrives.
  function refit() {
    document.querySelectorAll("[data-fitted]").forEach((el) => delete el.dataset.fitted);
    const next = $("next");
    if (next) delete next.dataset.key;
    draw();
  }
  if (document.fonts) document.fonts.addEventListener("loadingdone", refit);

  function loadLabels() {
    fetch("web/i18n/" + lang + ".json", { cache: "no-store" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((l) => {
        labels = l;
        translateStatic();
        drawLink();
        movesShown = "";
        draw();
      })
      .catch(() => setTimeout(loadLabels, 2000));
  }

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

  // A name in the page's language where the roster gives one.
  function nameOf(named) {
    return (named.names && named.names[lang]) || named.name;
  }

  // Its short form, where the roster gives one and no name in this language.
  function shortOf(named) {
    return named.names && named.names[lang] ? null : named.short || null;
  }

  function statementName(st, short) {
    const who = (short && shortOf(st.who)) || nameOf(st.who);
    if (!st.group) return who;
    return t("on_behalf_of", { name: who, group: groupName(st.group, short) });
  }

  // English says "on behalf of the African Group"; the other languages, their own names.
  function groupName(named, short) {
    const name = (short && shortOf(named)) || nameOf(named);
    return lang === "en" && named.article && !/^the /i.test(name) ? "the " + name : name;
  }

  function detailText(st) {
    const parts = [t("kind_" + st.kind_code), t("modality_" + st.modality_code.replace(/-/g, "_"))];
    if (st.language) parts.push(t("in_language", { language: languageName(st.language) }));
    if (st.part) parts.push(t("part", { n: st.part }));
    return parts.join(" · ");
  }

  function overflows(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }

  // A name never lost: the whole name; if it does not fit, its short form; then
  // smaller type; then cut with an ellipsis (the whole name stays in the tooltip).
  function fitName(el, full, short) {
    const key = full + "|" + (short || "") + "|" + innerWidth + "x" + innerHeight + "|" + lang;
    if (el.dataset.fitted === key) return;
    el.dataset.fitted = key;
    el.style.fontSize = "";
    el.classList.remove("clamped");
    el.textContent = full;
    el.title = full;
    if (!overflows(el)) return;
    if (short && short !== full) {
      el.textContent = short;
      if (!overflows(el)) return;
    }
    let size = parseFloat(getComputedStyle(el).fontSize);
    const smallest = size * 0.55;
    while (overflows(el) && size > smallest) {
      size *= 0.9;
      el.style.fontSize = size + "px";
    }
    if (overflows(el)) el.classList.add("clamped");
  }

  function followed() {
    if (me) return me;
    return localStorage.getItem(followKey);
  }

  function stopped(floor) {
    return floor.paused || (state && state.point_of_order) || !floor.running_since || !opened;
  }

  function drawCountdown(el, floor) {
    const remaining = reading(floor);
    el.hidden = false;
    el.textContent = digits(countdownText(remaining));
    el.classList.remove("warning", "overrun", "stopped");
    // While the hub cannot be reached the clock is greyed: it may not be the room's.
    if (stopped(floor)) el.classList.add("stopped");
    else if (remaining < 0) el.classList.add("overrun");
    else if (remaining <= state.warning_secs * 1000) el.classList.add("warning");
  }

  function stateText(floor) {
    if (state.point_of_order) return t("state_point_of_order", { name: pointOfOrderName() });
    if (floor.paused) return t("state_paused");
    const remaining = reading(floor);
    if (remaining < 0) return t("state_overrun");
    if (remaining <= state.warning_secs * 1000) return t("state_almost_up");
    return "";
  }

  // Why an entry stands where it does, in the page's language, from the hub's
  // `why` (the same value the English `reason` is written from).
  function reasonText(e) {
    const why = e.why;
    if (!why) return e.reply ? t("reason_reply") : e.reason;
    const nameOfId = (id) => {
      const found = [state.floor].concat(state.list).find((x) => x && x.participant === id);
      return found ? nameOf(found.who) : id;
    };
    switch (why.reason) {
      case "moved":
        return t("reason_moved", { to: why.to });
      case "deferred":
        return t("reason_deferred", { from: why.from });
      case "suspended":
        return t("reason_suspended", { to: why.to, part: why.part, left: mmss(why.left_ms) });
      case "before":
      case "after":
        return t("reason_" + why.reason, { name: nameOfId(why.other), why: whyText(why.why) });
      case "inscribed":
        return why.when.when === "in-advance" ? t("reason_in_advance") : t("reason_at", { time: why.when.time });
      default:
        return e.reason;
    }
  }

  function whyText(w) {
    const level = (l) => t("level_" + l.replace(/-/g, "_"));
    switch (w.why) {
      case "first":
        return t("why_first", { at: w.at });
      case "earlier":
        return t("why_earlier", { at: w.at, against: w.against });
      case "stakeholder-slot":
      case "statements-between-slots":
        return t("why_" + w.why.replace(/-/g, "_"), { every: w.every });
      case "outranks":
        return t("why_outranks", { level: level(w.level), other: level(w.other) });
      case "same-level":
        return t("why_same_level", { level: level(w.level), then: whyText(w.then) });
      default:
        return t("why_" + w.why.replace(/-/g, "_"));
    }
  }

  function pointOfOrderName() {
    return state.point_of_order_by ? nameOf(state.point_of_order_by) : state.point_of_order;
  }

  function draw() {
    drawOffset();
    if (!state) return;
    $("title").textContent = state.title;
    $("segment").textContent = state.segment || "";
    const banner = $("banner");
    banner.hidden = !state.point_of_order;
    banner.textContent = state.point_of_order ? t("point_of_order_by", { name: pointOfOrderName() }) : "";
    $("closed").hidden = !state.closed;
    const floor = state.floor;
    const speaker = $("speaker");
    if (floor) {
      fitName(speaker, statementName(floor, false), statementName(floor, true));
    } else {
      fitName(speaker, t("no_floor"), null);
    }
    $("detail").textContent = floor ? detailText(floor) : "";
    if (page === "display") {
      if (floor) {
        drawCountdown($("countdown"), floor);
        $("state").textContent = stateText(floor);
      } else {
        $("countdown").hidden = true;
        $("state").textContent = "";
      }
      drawNext();
    } else {
      drawSpeaker(floor);
      drawMoves();
    }
  }

  // The next five on the list; nothing cut off without a sign.
  function drawNext() {
    const shown = 5;
    document.body.classList.toggle("arab-digits", digits("0") !== "0");
    const next = $("next");
    const key = JSON.stringify(state.list.slice(0, shown)) + lang + innerWidth + "x" + innerHeight;
    if (next.dataset.key !== key) {
      next.dataset.key = key;
      next.replaceChildren(
        ...state.list.slice(0, shown).map((e) => {
          const li = document.createElement("li");
          const name = document.createElement("div");
          name.className = "name";
          li.appendChild(name);
          // How it will be heard, on a line of its own so that no name hides it.
          const how = [];
          if (e.modality_code !== "in-room") how.push(t("modality_" + e.modality_code.replace(/-/g, "_")));
          if (e.language) how.push(t("in_language", { language: languageName(e.language) }));
          if (e.part) how.push(t("part", { n: e.part }));
          if (how.length) {
            const line = document.createElement("div");
            line.className = "how";
            line.textContent = how.join(" · ");
            li.appendChild(line);
          }
          li.title = statementName(e, false);
          next.appendChild(li);
          name.textContent = statementName(e, false);
          // The short form first when the whole name does not fit on the line.
          if (name.scrollWidth > name.clientWidth + 1) name.textContent = statementName(e, true);
          return li;
        })
      );
    }
    const more = $("more");
    const rest = state.list.length - shown;
    more.hidden = rest <= 0;
    more.textContent = rest > 0 ? t("more_speakers", { n: rest }) : "";
    $("list-closed").hidden = !state.list_closed;
  }

  function drawSpeaker(floor) {
    const who = followed();
    if (me) {
      // A delegate's token: the page follows that delegation, named as the session names it.
      const named = moves ? nameOf(moves.who) : null;
      if (named) $("who").value = named;
    }
    const names = $("names");
    if (names.childElementCount === 0 || names.dataset.seq !== String(state.seq)) {
      const seen = new Map();
      if (floor) seen.set(floor.participant, nameOf(floor.who));
      state.list.forEach((e) => seen.set(e.participant, nameOf(e.who)));
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
      // Nobody chosen yet, or a name no list holds.
      $("mine").textContent = me !== null ? "" : $("who").value ? t("not_on_list") : t("choose_whom");
      countdown.hidden = true;
      $("state").textContent = "";
      return;
    }
    if (floor && floor.participant === who) {
      $("mine").textContent = t("you_have_floor");
      drawCountdown(countdown, floor);
      $("state").textContent = stateText(floor);
      alertIfDue(floor);
      return;
    }
    countdown.hidden = true;
    $("state").textContent = "";
    const mine = state.list.filter((e) => e.participant === who);
    // Whom the page follows, named from the first frame: the delegate's own name,
    // else the name of the participant chosen before (on the floor or a list).
    const known = [floor].concat(state.list).find((e) => e && e.participant === who);
    const whom = moves ? nameOf(moves.who) : known ? nameOf(known.who) : $("who").value;
    const lines = whom ? [t("following", { name: whom })] : [];
    if (!me && known && !$("who").value) $("who").value = nameOf(known.who);
    mine.forEach((e) => {
      // The place, and the statement as the hub recorded it (for a group, in a language).
      const place =
        t(e.reply ? "your_reply_number" : "you_are_number", { n: e.position, time: mmss(e.allotted_ms) }) +
        " · " +
        [statementName(e, false), detailText(e)].join(" · ");
      lines.push(place + " — " + reasonText(e));
    });
    if (mine.length === 0) lines.push(t("not_on_list"));
    $("mine").textContent = lines.join("\n");
  }

  // --- The speaker's alerts: a tone and a pulse at the warning and at the end. ---
  let audio = null;
  let alerted = { turn: null, warning: false, end: false };

  function beep(times) {
    try {
      if (!audio) audio = new AudioContext();
      if (audio.state === "suspended") audio.resume();
      for (let i = 0; i < times; i++) {
        const start = audio.currentTime + i * 0.35;
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.setValueAtTime(0.25, start);
        gain.gain.exponentialRampToValueAtTime(0.001, start + 0.25);
        tone.connect(gain).connect(audio.destination);
        tone.start(start);
        tone.stop(start + 0.25);
      }
    } catch (e) {
      // No audio on this device: the pulse (if chosen) still shows.
    }
  }

  function alertIfDue(floor) {
    const turn = floor.started_at + floor.participant;
    if (alerted.turn !== turn) alerted = { turn: turn, warning: false, end: false };
    if (stopped(floor)) return;
    const remaining = reading(floor);
    let phase = null;
    if (remaining <= 0 && !alerted.end) {
      alerted.end = alerted.warning = true;
      phase = "end";
    } else if (remaining <= state.warning_secs * 1000 && !alerted.warning) {
      alerted.warning = true;
      phase = "warning";
    }
    if (!phase) return;
    const countdown = $("countdown");
    countdown.dataset.alerted = phase;
    if (localStorage.getItem(soundKey) === "on") {
      beep(phase === "end" ? 3 : 1);
      document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
    }
    if (localStorage.getItem(flashKey) === "on") {
      countdown.classList.remove("pulse");
      void countdown.offsetWidth; // restart the animation
      countdown.classList.add("pulse");
    }
  }

  // --- A delegate's moves: what the hub says this delegate may do now. ---
  function button(text, onClick, key) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.dataset.key = key;
    b.addEventListener("click", onClick);
    return b;
  }

  function note(text) {
    const p = document.createElement("p");
    p.className = "why-not";
    p.textContent = text;
    return p;
  }

  function confirmThen(question, then) {
    const dialog = $("confirm");
    $("confirm-text").textContent = question;
    const back = document.activeElement;
    const done = (yes) => {
      dialog.close();
      $("confirm-yes").onclick = null;
      $("confirm-cancel").onclick = null;
      if (back && back.focus) back.focus();
      if (yes) then();
    };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
    $("confirm-cancel").focus();
  }

  // The move's question (in the page's language), then its command.
  function act(move, question, command, what) {
    const go = () => send(command || move.command, what);
    if (move.question) confirmThen(t(question), go);
    else go();
  }

  function send(command, what) {
    const outcome = $("outcome");
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      outcome.textContent = t("not_sent");
      outcome.setAttribute("role", "alert");
      return;
    }
    commandCount += 1;
    const id = "page-" + commandCount;
    pending.set(id, what);
    socket.send(JSON.stringify({ type: "command", id: id, command: command }));
    outcome.setAttribute("role", "status");
    outcome.textContent = t("sent");
  }

  function chosenLanguage() {
    const pick = $("statement-language");
    if (!pick) return null;
    if (pick.value === "other") {
      const code = $("statement-language-code").value.trim();
      return code || null;
    }
    return pick.value || null;
  }

  // What the delegate chose in the request form, kept when the form is redrawn.
  const choice = { group: "", language: "", code: "" };

  function requestSection() {
    const section = document.createElement("div");
    section.className = "move";
    const inscribe = moves.inscribe;
    if (!inscribe.allowed) {
      section.appendChild(note(t("request_floor") + " — " + t("not_now", { reason: inscribe.reason || "" })));
      section.id = "request-refused";
      return section;
    }
    const form = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = t("request_floor");
    form.appendChild(legend);
    // In its own name, or (a Member State) on behalf of a group it may speak for.
    const choices = [{ value: "", text: t(moves.groups.length ? "national_statement" : "own_statement") }].concat(
      moves.groups.map((g) => ({ value: g.id, text: t("on_behalf_of_group", { group: groupName(g.group, false) }) }))
    );
    if (choices.length > 1) {
      const label = document.createElement("label");
      label.textContent = t("statement") + " ";
      const select = document.createElement("select");
      select.id = "statement-for";
      choices.forEach((c) => {
        const o = document.createElement("option");
        o.value = c.value;
        o.textContent = c.text;
        select.appendChild(o);
      });
      select.value = choices.some((c) => c.value === choice.group) ? choice.group : "";
      select.addEventListener("change", () => {
        choice.group = select.value;
      });
      label.appendChild(select);
      form.appendChild(label);
    }
    const label = document.createElement("label");
    label.textContent = t("statement_language") + " ";
    const select = document.createElement("select");
    select.id = "statement-language";
    [["", t("language_unsaid")]]
      .concat(LANGUAGES.map((c) => [c, languageName(c)]))
      .concat([["other", t("language_other")]])
      .forEach(([value, text]) => {
        const o = document.createElement("option");
        o.value = value;
        o.textContent = text;
        select.appendChild(o);
      });
    select.value = choice.language;
    select.addEventListener("change", () => {
      choice.language = select.value;
    });
    label.appendChild(select);
    form.appendChild(label);
    const code = document.createElement("input");
    code.id = "statement-language-code";
    code.maxLength = 3;
    code.size = 4;
    code.value = choice.code;
    code.hidden = choice.language !== "other";
    code.setAttribute("aria-label", t("language_code"));
    code.addEventListener("input", () => {
      choice.code = code.value;
    });
    select.addEventListener("change", () => {
      code.hidden = select.value !== "other";
    });
    form.appendChild(code);
    form.appendChild(
      button(
        t("request_floor"),
        () => {
          const group = $("statement-for") ? $("statement-for").value : "";
          const chosen = group ? moves.groups.find((g) => g.id === group) : null;
          const command = Object.assign({}, chosen ? chosen.command : inscribe.command);
          const language = chosenLanguage();
          if (language) command.language = language;
          send(command, inscribe.what);
        },
        "request"
      )
    );
    section.appendChild(form);
    return section;
  }

  function drawMoves() {
    if (!moves) return;
    // Redrawn when what may be done changes (not at every event: a choice being made stays).
    const shown = JSON.stringify(Object.assign({}, moves, { seq: 0 })) + lang + (labels ? "1" : "0");
    if (shown === movesShown) return;
    movesShown = shown;
    $("actions").hidden = false;
    document.body.classList.add("with-actions");
    const focused = document.activeElement && document.activeElement.dataset.key;
    const list = [requestSection()];
    moves.withdraw.forEach((w) => {
      if (w.allowed) {
        list.push(
          button(t("withdraw_entry", { n: w.position }), () => act(w, "confirm_withdraw", null, w.what), "withdraw-" + w.entry)
        );
      }
    });
    // A right of reply and a point of order: each requested, or its own withdrawn (the command says which).
    for (const [move, withdrawType, keys, key] of [
      [moves.reply, "withdraw-reply", ["request_reply", "withdraw_reply", null, "confirm_withdraw_reply"], "reply"],
      [moves.point_of_order, "withdraw-point-of-order", ["raise_point", "withdraw_point", "confirm_point", "confirm_withdraw_point"], "point"],
    ]) {
      const [ask, withdraw, askQuestion, withdrawQuestion] = keys;
      if (move.allowed) {
        const withdrawing = move.command.type === withdrawType;
        const question = withdrawing ? withdrawQuestion : askQuestion;
        list.push(button(t(withdrawing ? withdraw : ask), () => act(move, question, null, move.what), key));
      } else {
        list.push(note(t(ask) + " — " + t("not_now", { reason: move.reason || "" })));
      }
    }
    if (moves.connection.length) {
      const group = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = t("connection");
      group.appendChild(legend);
      const now = document.createElement("p");
      now.className = "connection-now";
      now.textContent = t("connection_now", { status: t("status_" + moves.connection_status.replace(/-/g, "_")) });
      group.appendChild(now);
      moves.connection.forEach((c) => {
        const label = t(c.status === "connected" ? "connected" : "technical_issue");
        if (c.allowed) group.appendChild(button(label, () => act(c, null, null, c.what), "connection-" + c.status));
        // The status it has already is said above, not refused.
        else if (c.status !== moves.connection_status) {
          group.appendChild(note(label + " — " + t("not_now", { reason: c.reason || "" })));
        }
      });
      list.push(group);
    }
    $("moves").replaceChildren(...list);
    if (focused) {
      const again = document.querySelector('[data-key="' + focused + '"]');
      if (again) again.focus();
    }
  }

  // --- The clock's offset, measured by pings as the terminal clients do. ---
  function ping() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    pingCount += 1;
    const id = "clock-" + pingCount;
    pings.set(id, performance.now());
    socket.send(JSON.stringify({ type: "ping", id: id }));
  }

  function onPong(frame) {
    const sent = pings.get(frame.id);
    if (sent === undefined) return;
    pings.delete(frame.id);
    const rtt = performance.now() - sent;
    const sentWall = Date.now() - rtt;
    const offset = Date.parse(frame.now) - (sentWall + rtt / 2);
    // The sample with the shortest round trip is the best; an older one ages out.
    if (!measured || rtt <= measured.rtt * 1.5 || measured.samples >= 6) {
      measured = { offset: offset, rtt: rtt, samples: 0 };
      offsetMs = offset;
    } else {
      measured.samples += 1;
    }
  }

  function drawOffset() {
    const el = $("offset");
    if (!el) return;
    el.textContent = measured
      ? t("clock_offset", {
          offset: (measured.offset >= 0 ? "+" : "") + Math.round(measured.offset),
          rtt: Math.round(measured.rtt),
        })
      : "";
  }

  // The link's state, drawn in the page's words (again once they are loaded).
  let link = { key: "connecting", vars: {}, down: false };

  function setLink(key, vars, down) {
    link = { key: key, vars: vars || {}, down: !!down };
    drawLink();
  }

  function drawLink() {
    const el = $("link");
    el.textContent = t(link.key, link.vars);
    el.classList.toggle("down", link.down);
  }

  function onHome() {
    return hubs.length === 0 || hubAt % hubs.length === 0;
  }

  function connect() {
    const token = sessionStorage.getItem(tokenKey);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const home = scheme + "://" + location.host + base;
    let url = (onHome() ? home : hubs[hubAt % hubs.length]) + "?view=display";
    if (token) url += "&token=" + encodeURIComponent(token);
    opened = false;
    socket = new WebSocket(url);
    socket.onopen = () => {
      opened = true;
      refused = false;
      attempt = 0;
      setLink("live", {}, false);
      $("token-form").hidden = true;
      ping();
    };
    socket.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      // Until a ping has measured it, the offset is read off each frame.
      if (frame.now && !measured) offsetMs = Date.parse(frame.now) - Date.now();
      if (frame.type === "welcome") {
        // The list as the page's own hub gives it (its own URL first).
        if (onHome() && Array.isArray(frame.hubs)) hubs = frame.hubs;
        me = frame.participant || null;
        if (me && page === "speaker") $("who").disabled = true;
      } else if (frame.type === "display") {
        state = frame.state;
        draw();
      } else if (frame.type === "moves") {
        moves = frame.moves;
        draw();
      } else if (frame.type === "pong") {
        onPong(frame);
      } else if (frame.type === "accepted" || frame.type === "rejected") {
        if (!pending.has(frame.id)) return;
        pending.delete(frame.id);
        const outcome = $("outcome");
        outcome.setAttribute("role", frame.type === "rejected" ? "alert" : "status");
        outcome.textContent = frame.type === "rejected" ? t("refused", { reason: frame.reason }) : t("done");
      }
    };
    socket.onclose = () => {
      attempt += 1;
      pings.clear();
      if (!onHome()) {
        // Another hub of the session went away too: the next one (the page's own at last).
        hubAt = (hubAt + 1) % hubs.length;
      } else if (opened || attempt === 1 || attempt % 4 === 0 || hubs.length > 1) probe();
      const wait = Math.min(2000, 250 * 2 ** Math.min(attempt - 1, 3));
      if (!refused) setLink("reconnecting", { n: attempt }, true);
      draw();
      setTimeout(connect, wait);
    };
  }

  // A websocket that closes says nothing of why: ask the hub for a page. If it
  // answers, it is up and refused the connection (a token is needed, or this one
  // is wrong); if not, it is down and the page only waits for it, never asking
  // the room for a token.
  function probe() {
    fetch("web/access", { cache: "no-store" })
      .then((r) => {
        if (!r.ok || opened) return;
        refused = true;
        setLink("token_needed", {}, true);
        const form = $("token-form");
        $("token-refused").hidden = !sessionStorage.getItem(tokenKey);
        if (form.hidden) {
          form.hidden = false;
          $("token").focus();
        }
      })
      .catch(() => {
        refused = false;
        $("token-form").hidden = true;
        setLink("hub_unreachable", { n: attempt }, true);
        // The page's own hub is down: another hub of the session may serve it.
        if (hubs.length > 1 && onHome()) hubAt = 1;
      });
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
      // A name no list holds: followed by nobody until it is on one (the page says so).
      if (option) localStorage.setItem(followKey, option.dataset.id);
      else localStorage.removeItem(followKey);
      draw();
    });
    const choice = $("lang");
    choice.value = lang;
    choice.addEventListener("change", () => {
      localStorage.setItem(langKey, choice.value);
      params.set("lang", choice.value);
      location.search = params.toString();
    });
    for (const [id, key] of [
      ["alert-sound", soundKey],
      ["alert-flash", flashKey],
    ]) {
      const box = $(id);
      box.checked = localStorage.getItem(key) === "on";
      box.addEventListener("change", () => {
        localStorage.setItem(key, box.checked ? "on" : "off");
        // The sound needs a gesture to be allowed: this one.
        if (id === "alert-sound" && box.checked) beep(1);
      });
    }
  }

  loadLabels();
  setInterval(draw, 250);
  setInterval(ping, 10000);
  connect();
})();
