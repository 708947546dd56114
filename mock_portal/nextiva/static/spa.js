/* Variant c of the mock portal: a single-page application in plain JavaScript.

   Every screen is drawn here from the JSON API under /api/v2/, and the routes live in the
   browser (history.pushState); the server knows only the start URL and /app/ deep links.
   It keeps PORTAL.md's names and texts, and takes every freedom the contract leaves:
   ARIA tables, role=button elements, comboboxes whose listbox sits at the end of <body>,
   labels attached in four ways, headers in capitals by CSS, confirmations that go away,
   debounced searches, ids and classes that change on every start of the server. */
"use strict";

(function () {
  const K = document.body.dataset.app; // this start's prefix for every id and class
  const API = "/api/v2";
  const WENT_WRONG = "Something went wrong. Please try again.";
  const EXPIRED = "Your session has expired. Please sign in again.";
  const SAVED = "Changes saved.";
  const STATUS_MS = 6000; // how long a confirmation stays before it goes away
  const SEARCH_DEBOUNCE_MS = 400;

  const app = { csrf: "", admin: null, banner: false, overlap: false, flash: null };
  let serial = 0;
  let screenToken = 0; // bumps on every screen change, so late answers of an old screen are dropped
  const cls = (...names) => names.map((n) => `${K}-${n}`).join(" ");
  const newId = (name) => `${K}-${name}-${(++serial).toString(36)}`;

  /* ---------- building elements ---------- */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /* Replaces an element's children, skipping the empty ones a condition left out. */
  function put(el, ...children) {
    el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  }

  /* A button as a <div role=button>: focusable, and Enter, Space or a click press it. */
  function button(label, onPress, attrs = {}) {
    const el = h("div", Object.assign({ role: "button", tabindex: "0", class: cls("btn") }, attrs), label);
    const press = (event) => {
      if (el.getAttribute("aria-disabled") === "true") return;
      event.preventDefault();
      onPress(event);
    };
    el.addEventListener("click", press);
    el.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") press(event);
    });
    return el;
  }
  function setDisabled(el, disabled) {
    if (disabled) el.setAttribute("aria-disabled", "true");
    else el.removeAttribute("aria-disabled");
  }

  /* ---------- the API ---------- */
  class Unauthorized extends Error {}

  async function api(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": app.csrf };
    const options = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, options);
    } catch (e) {
      return { ok: false, status: 0, body: { error: WENT_WRONG } };
    }
    let data;
    try {
      data = await response.json();
    } catch (e) {
      data = { error: WENT_WRONG };
    }
    if (response.status === 401 && !path.startsWith("/sign-in")) {
      // Signed out or expired: whatever was not saved is lost, as in the real portal. The
      // server started a new session, so its form token is needed before signing in again.
      app.admin = null;
      screenToken += 1;
      try {
        await loadSession();
      } finally {
        app.admin = null;
        showSignIn(data.error === EXPIRED ? EXPIRED : null);
      }
      throw new Unauthorized(data.error || "signed out");
    }
    if (response.status >= 500) data.error = WENT_WRONG;
    return { ok: response.ok, status: response.status, body: data };
  }

  /* ---------- routing ---------- */
  const routes = [
    [/^\/app\/home$/, () => dashboardScreen()],
    [/^\/app\/people$/, () => usersScreen()],
    [/^\/app\/people\/new$/, () => createUserScreen()],
    [/^\/app\/people\/(\d+)\/emergency-address$/, (m) => e911Screen(Number(m[1]))],
    [/^\/app\/people\/(\d+)$/, (m) => userScreen(Number(m[1]))],
    [/^\/app\/account$/, () => myAccountScreen()],
    [/^\/app\/account\/licences$/, () => licensingScreen()],
    [/^\/app\/account\/licences\/(\d+)\/assign$/, (m) => assignScreen(Number(m[1]))],
    [/^\/app\/(numbers|devices|call-flows|reports|help-center)$/, (m) => areaScreen(m[1])],
  ];

  function navigate(path, { replace = false } = {}) {
    if (replace) history.replaceState({}, "", path);
    else history.pushState({}, "", path);
    render();
  }
  window.addEventListener("popstate", render);
  // Links inside the app change the screen without a page load.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='/app/']");
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    closeMenus();
    navigate(link.getAttribute("href"));
  });

  function render() {
    screenToken += 1;
    closeMenus();
    removePortalled();
    if (!app.admin) {
      showSignIn(null);
      return;
    }
    const path = location.pathname.replace(/\/+$/, "") || "/";
    if (path === "/" || path === "/app") {
      navigate("/app/home", { replace: true });
      return;
    }
    for (const [pattern, screen] of routes) {
      const m = path.match(pattern);
      if (m) {
        screen(m).catch((e) => { if (!(e instanceof Unauthorized)) throw e; });
        return;
      }
    }
    frame(h("h1", { text: "Page not found" }), h("p", { role: "alert", class: cls("alert") }, "Page not found."));
  }

  /* ---------- page frame: banner, header, main, chat ---------- */
  const root = h("div", { id: newId("root"), class: cls("root") });
  document.body.prepend(root);

  function frame(...content) {
    const main = h("main", { class: cls("main"), id: newId("main") }, ...content);
    put(root, ...topOfPage(), main, chat.element);
    chat.placed();
    if (app.flash) {
      announce(main, app.flash, "status");
      app.flash = null;
    }
    return main;
  }

  function banner() {
    if (!app.banner || sessionStorage.getItem(`${K}-banner-closed`)) return null;
    const holder = h("div", { class: cls("unsupported") },
      h("p", {}, "You are using an unsupported browser. Please update your browser to the latest version on or before July 31, 2020."));
    holder.append(button("close", () => {
      sessionStorage.setItem(`${K}-banner-closed`, "1");
      holder.remove();
    }, { class: cls("btn", "btn-plain") }));
    return holder;
  }

  /* ---------- menus: the Users menu of the menubar and the account menu ---------- */
  const openMenus = new Set();
  function closeMenus() {
    openMenus.forEach((close) => close());
    openMenus.clear();
  }
  document.addEventListener("click", (event) => {
    if (!event.target.closest("[aria-haspopup=menu]")) closeMenus();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenus(); });

  function menu(opener, items, label) {
    const list = h("div", { role: "menu", "aria-label": label, class: cls("menu"), id: newId("menu"), hidden: true }, items);
    opener.setAttribute("aria-haspopup", "menu");
    opener.setAttribute("aria-expanded", "false");
    opener.setAttribute("aria-controls", list.id);
    let byHover = false;
    const close = () => { list.hidden = true; opener.setAttribute("aria-expanded", "false"); };
    const open = (hovered = false) => {
      if (!list.hidden) return;
      closeMenus();
      byHover = hovered === true;
      list.hidden = false;
      opener.setAttribute("aria-expanded", "true");
      openMenus.add(close);
    };
    const toggle = (event) => {
      event.preventDefault();
      if (list.hidden) {
        open();
        if (event.detail === 0) list.querySelector("[role=menuitem]")?.focus();
      } else if (byHover) {
        // The pointer opened it on its way to the click: the click means "open", not "close".
        byHover = false;
      } else close();
    };
    opener.addEventListener("click", toggle);
    opener.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " " || event.key === "ArrowDown") toggle(event);
    });
    list.addEventListener("keydown", (event) => {
      const all = Array.from(list.querySelectorAll("[role=menuitem]"));
      const at = all.indexOf(document.activeElement);
      if (event.key === "ArrowDown") { event.preventDefault(); all[(at + 1) % all.length].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); all[(at - 1 + all.length) % all.length].focus(); }
      if (event.key === "Enter" || event.key === " ") {
        if (document.activeElement && document.activeElement.tagName !== "A") {
          event.preventDefault();
          document.activeElement.click();
        }
      }
    });
    return { list, open, close };
  }

  function menuLink(label, path) {
    return h("a", { role: "menuitem", href: path, class: cls("menuitem"), tabindex: "-1" }, label);
  }

  function topOfPage() {
    const usersItem = h("div", { role: "menuitem", tabindex: "0", class: cls("menuitem", "has-menu") }, "Users");
    const usersMenu = menu(usersItem, [
      menuLink("Manage Users", "/app/people"),
      menuLink("Add Users", "/app/people/new"),
    ], "Users");
    const usersHolder = h("div", { role: "none", class: cls("menu-holder") }, usersItem, usersMenu.list);
    usersHolder.addEventListener("mouseenter", () => usersMenu.open(true));
    usersHolder.addEventListener("mouseleave", usersMenu.close);

    const nav = h("nav", { "aria-label": "Main", class: cls("nav") },
      h("div", { role: "menubar", "aria-label": "Main", class: cls("menubar") },
        h("a", { role: "menuitem", href: "/app/home", class: cls("menuitem") }, "Home"),
        usersHolder,
        h("a", { role: "menuitem", href: "/app/numbers", class: cls("menuitem") }, "Numbers"),
        h("a", { role: "menuitem", href: "/app/devices", class: cls("menuitem") }, "Devices"),
        h("a", { role: "menuitem", href: "/app/call-flows", class: cls("menuitem") }, "Call Flows"),
        h("a", { role: "menuitem", href: "/app/reports", class: cls("menuitem") }, "Reports")));

    const helpButton = button("Help", () => {}, { class: cls("tool") });
    const helpMenu = menu(helpButton, [menuLink("Help Center", "/app/help-center")], "Help");

    // The account button's name is the admin's display name; its initial is drawn by CSS.
    const accountButton = h("div", {
      role: "button", tabindex: "0", class: cls("tool", "account"),
    }, h("span", { class: cls("avatar"), "aria-hidden": "true", "data-initial": app.admin.slice(0, 1) }),
    h("span", { class: cls("clip") }, app.admin));
    const signOut = h("div", { role: "menuitem", tabindex: "-1", class: cls("menuitem") }, "Sign out");
    signOut.addEventListener("click", doSignOut);
    const accountMenu = menu(accountButton, [menuLink("My Account", "/app/account"), signOut], app.admin);

    const header = h("header", { class: cls("header") },
      h("a", { href: "/app/home", class: cls("brand"), "aria-label": "Nextiva Voice home" },
        h("span", { class: cls("brand-mark"), "aria-hidden": "true" }), "nextiva"),
      nav,
      h("div", { class: cls("tools") },
        h("div", { class: cls("menu-holder") }, helpButton, helpMenu.list),
        h("div", { class: cls("menu-holder") }, accountButton, accountMenu.list)));
    return [banner(), header].filter(Boolean);
  }

  async function doSignOut() {
    closeMenus();
    const { body } = await api("POST", "/sign-out", {});
    app.admin = null;
    if (body.csrf) app.csrf = body.csrf;
    showSignIn(null, body.notice || "You have signed out.");
  }

  /* ---------- messages: statuses that go away, alerts that stay ---------- */
  function announce(holder, text, role) {
    holder.querySelectorAll(`:scope > .${K}-message`).forEach((m) => m.remove());
    const message = h("div", { role, class: `${cls("message")} ${cls(role)}` }, text);
    holder.prepend(message);
    if (role === "status") setTimeout(() => message.remove(), STATUS_MS);
    return message;
  }
  function clearMessages(holder) {
    holder.querySelectorAll(`:scope > .${K}-message`).forEach((m) => m.remove());
  }

  /* ---------- fields, labelled in different ways ---------- */
  // how: "for" (<label for>), "wrap" (the label wraps the input), "labelledby", "aria".
  function textField(name, label, how, { value = "", type = "text", autocomplete = "off", extra = {} } = {}) {
    const id = newId(name);
    const input = h("input", Object.assign({ id, name, type, autocomplete, class: cls("input") }, extra));
    input.value = value;
    let field;
    if (how === "wrap") {
      field = h("label", { class: cls("field") }, h("span", { class: cls("label") }, label), input);
    } else if (how === "labelledby") {
      const labelId = newId(`${name}-label`);
      input.setAttribute("aria-labelledby", labelId);
      field = h("div", { class: cls("field") }, h("span", { id: labelId, class: cls("label") }, label), input);
    } else if (how === "aria") {
      input.setAttribute("aria-label", label);
      input.setAttribute("placeholder", label);
      field = h("div", { class: cls("field") }, input);
    } else {
      field = h("div", { class: cls("field") }, h("label", { for: id, class: cls("label") }, label), input);
    }
    return { field, input, name };
  }

  function checkField(name, label, checked, how = "wrap") {
    const id = newId(name);
    const input = h("input", { id, name, type: "checkbox", class: cls("check") });
    input.checked = Boolean(checked);
    const field = how === "for"
      ? h("div", { class: cls("field", "check-field") }, input, h("label", { for: id }, label))
      : h("label", { class: cls("field", "check-field") }, input, h("span", {}, label));
    return { field, input, name };
  }

  /* A native <select>. */
  function selectField(name, label, options, value) {
    const id = newId(name);
    const select = h("select", { id, name, class: cls("select") });
    const api = {
      name,
      get value() { return select.value; },
      set(v) { select.value = v; },
      setOptions(items, placeholder) {
        put(select, ...(placeholder ? [h("option", { value: "" }, placeholder)] : []),
          ...items.map((o) => h("option", { value: o.value }, o.label)));
      },
      onChange(fn) { select.addEventListener("change", fn); },
      field: h("div", { class: cls("field") }, h("label", { for: id, class: cls("label") }, label), select),
      input: select,
    };
    api.setOptions(options, null);
    if (value !== undefined) select.value = value;
    return api;
  }

  /* An ARIA combobox whose listbox is rendered at the end of <body>, as framework
     dropdowns do, and positioned under the field when open. */
  const portalled = new Set();
  function removePortalled() {
    portalled.forEach((el) => el.remove());
    portalled.clear();
  }

  function comboField(name, label, options, placeholder) {
    const labelId = newId(`${name}-label`);
    const listId = newId(`${name}-list`);
    let items = [];
    let current = "";
    let active = -1;
    let changeHandlers = [];
    const box = h("div", {
      role: "combobox", tabindex: "0", "aria-labelledby": labelId, "aria-haspopup": "listbox",
      "aria-expanded": "false", "aria-controls": listId, class: cls("combo"), id: newId(name),
    }, h("span", { class: cls("combo-text", "clip") }));
    const list = h("div", { role: "listbox", id: listId, "aria-labelledby": labelId, class: cls("listbox"), hidden: true });
    document.body.append(list);
    portalled.add(list);

    const text = box.firstChild;
    const optionEls = () => Array.from(list.querySelectorAll("[role=option]"));
    const disabled = () => box.getAttribute("aria-disabled") === "true";
    const highlight = () => {
      optionEls().forEach((o, i) => o.classList.toggle(`${K}-active`, i === active));
      const el = optionEls()[active];
      if (el) {
        box.setAttribute("aria-activedescendant", el.id);
        el.scrollIntoView({ block: "nearest" });
      }
    };
    const place = () => {
      const r = box.getBoundingClientRect();
      list.style.left = `${r.left + window.scrollX}px`;
      list.style.top = `${r.bottom + window.scrollY + 2}px`;
      list.style.width = `${r.width}px`;
    };
    const open = () => {
      if (disabled()) return;
      closeCombos();
      place();
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
      active = Math.max(0, items.findIndex((o) => o.value === current));
      highlight();
      openCombos.add(close);
    };
    const close = () => {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
    };
    const choose = (value) => {
      const item = items.find((o) => o.value === value);
      if (!item) return;
      const changed = current !== value;
      current = value;
      text.textContent = item.label;
      optionEls().forEach((o) => o.setAttribute("aria-selected", o.dataset.value === value ? "true" : "false"));
      close();
      if (changed) changeHandlers.forEach((fn) => fn());
    };
    box.addEventListener("click", (event) => {
      event.stopPropagation();
      if (list.hidden) open(); else close();
    });
    box.addEventListener("keydown", (event) => {
      const keys = ["ArrowDown", "ArrowUp", "Enter", " "];
      if (keys.includes(event.key)) event.preventDefault();
      if (list.hidden) { if (keys.includes(event.key)) open(); return; }
      if (event.key === "ArrowDown") { active = Math.min(items.length - 1, active + 1); highlight(); }
      else if (event.key === "ArrowUp") { active = Math.max(0, active - 1); highlight(); }
      else if (event.key === "Enter" || event.key === " ") { if (items[active]) choose(items[active].value); }
      else if (event.key === "Escape" || event.key === "Tab") close();
    });
    list.addEventListener("click", (event) => {
      event.stopPropagation();
      const option = event.target.closest("[role=option]");
      if (option) choose(option.dataset.value);
    });

    const api = {
      name,
      get value() { return current; },
      set: choose,
      setOptions(newItems, newPlaceholder, isDisabled) {
        items = (newPlaceholder ? [{ value: "", label: newPlaceholder }] : []).concat(newItems);
        put(list, ...items.map((o) => h("div", {
          role: "option", id: newId("option"), "data-value": o.value, "aria-selected": "false", class: cls("option"),
        }, o.label)));
        current = "";
        text.textContent = newPlaceholder || "";
        setDisabled(box, isDisabled);
        if (newPlaceholder) list.firstChild.setAttribute("aria-selected", "true");
      },
      onChange(fn) { changeHandlers.push(fn); },
      field: h("div", { class: cls("field") }, h("span", { id: labelId, class: cls("label") }, label), box),
      input: box,
    };
    api.setOptions(options, placeholder, false);
    return api;
  }
  const openCombos = new Set();
  function closeCombos() {
    openCombos.forEach((close) => close());
    openCombos.clear();
  }
  document.addEventListener("click", closeCombos);
  window.addEventListener("resize", closeCombos);

  /* Errors beside their fields and in one alert above the form. */
  function showFieldErrors(form, fields, errors, summaryHolder) {
    form.querySelectorAll(`.${K}-field-error`).forEach((e) => e.remove());
    Object.values(fields).forEach((f) => {
      f.input.removeAttribute("aria-invalid");
      f.input.removeAttribute("aria-describedby");
    });
    clearMessages(summaryHolder);
    const messages = Object.values(errors || {});
    if (!messages.length) return;
    for (const [name, message] of Object.entries(errors)) {
      const f = fields[name];
      if (!f) continue;
      const id = newId(`${name}-error`);
      f.input.setAttribute("aria-invalid", "true");
      f.input.setAttribute("aria-describedby", id);
      f.field.append(h("p", { id, class: cls("field-error") }, message));
    }
    const alert = announce(summaryHolder, "", "alert");
    alert.append(h("p", {}, "Please correct the following:"), h("ul", {}, messages.map((m) => h("li", {}, m))));
  }

  /* Presses a save: busy while it runs, so a second press cannot send it twice. */
  async function busy(control, scope, work) {
    setDisabled(control, true);
    scope.setAttribute("aria-busy", "true");
    try {
      return await work();
    } finally {
      setDisabled(control, false);
      scope.removeAttribute("aria-busy");
    }
  }

  /* ---------- sign in ---------- */
  function showSignIn(alert, notice) {
    screenToken += 1;
    closeMenus();
    removePortalled();
    if (location.pathname !== "/") history.replaceState({}, "", "/");
    const card = h("div", { class: cls("sign-in") },
      h("p", { class: cls("brand-large"), "aria-hidden": "true" }, "nextiva"),
      h("h1", {}, "Sign in"));
    const main = h("main", { class: cls("main", "narrow") }, card);
    put(root, ...[banner()].filter(Boolean), main);
    const messages = h("div", { class: cls("messages") });
    card.append(messages);
    if (notice) announce(messages, notice, "status");
    if (alert) announce(messages, alert, "alert");
    const form = h("form", { class: cls("form"), novalidate: true });
    card.append(form);
    if (app.pendingUsername) passwordStep(form, messages);
    else usernameStep(form, messages);
  }

  function usernameStep(form, messages) {
    const username = textField("username", "Username or Email", "for", { autocomplete: "username" });
    username.input.value = app.lastUsername || "";
    const next = button("Next", submit, { class: cls("btn", "primary", "wide") });
    async function submit() {
      await busy(next, form, async () => {
        const { ok, body } = await api("POST", "/sign-in", { username: username.input.value });
        if (!ok) { announce(messages, body.error || WENT_WRONG, "alert"); return; }
        app.pendingUsername = body.pending_username;
        app.lastUsername = body.pending_username;
        clearMessages(messages);
        put(form);
        passwordStep(form, messages);
      });
    }
    form.onsubmit = (event) => { event.preventDefault(); submit(); };
    put(form, username.field, next);
    username.input.focus();
  }

  function passwordStep(form, messages) {
    const password = textField("password", "Password", "wrap", { type: "password", autocomplete: "current-password" });
    const notYou = button("Not you?", async () => {
      await api("POST", "/sign-in/restart", {});
      app.pendingUsername = null;
      clearMessages(messages);
      usernameStep(form, messages);
    }, { class: cls("btn", "btn-plain") });
    const signIn = button("Sign in", submit, { class: cls("btn", "primary", "wide") });
    async function submit() {
      await busy(signIn, form, async () => {
        const { ok, body } = await api("POST", "/sign-in", { password: password.input.value });
        if (!ok) {
          password.input.value = "";
          if (body.step === "username") { app.pendingUsername = null; usernameStep(form, messages); }
          announce(messages, body.error || WENT_WRONG, "alert");
          return;
        }
        app.pendingUsername = null;
        await loadSession();
        navigate(location.pathname.startsWith("/app/") ? location.pathname : "/app/home", { replace: true });
      });
    }
    form.onsubmit = (event) => { event.preventDefault(); submit(); };
    put(form, 
      h("input", { type: "text", autocomplete: "username", hidden: true, value: app.pendingUsername || "" }),
      h("p", { class: cls("signing-in-as") }, h("span", { class: cls("clip") }, app.pendingUsername || ""), " ", notYou),
      password.field, signIn);
    password.input.focus();
  }

  async function loadSession() {
    const { body } = await api("GET", "/session");
    app.csrf = body.csrf || "";
    app.admin = body.signed_in ? body.admin_name : null;
    app.pendingUsername = body.signed_in ? null : body.pending_username || null;
    app.banner = Boolean(body.banner);
    app.overlap = Boolean(body.bubble_overlap);
    return body;
  }

  /* ---------- dashboard ---------- */
  async function dashboardScreen() {
    const mine = screenToken;
    const { body } = await api("GET", "/dashboard");
    if (mine !== screenToken) return;
    const t = body.tiles || {};
    const tile = (title, count, ...links) => {
      const id = newId("tile");
      return h("section", { class: cls("tile"), "aria-labelledby": id },
        h("h2", { id }, title), h("p", { class: cls("tile-count") }, String(count)), ...links);
    };
    const pinLabel = newId("pin-label");
    const pinValue = h("span", { "aria-labelledby": pinLabel, class: cls("pin") }, "••••");
    const showPin = button("Show PIN", async () => {
      if (showPin.textContent === "Hide PIN") {
        pinValue.textContent = "••••";
        showPin.textContent = "Show PIN";
        return;
      }
      // The PIN is asked for only when the admin wants to see it.
      const { ok, body: answer } = await api("GET", "/account/pin");
      if (!ok) return;
      pinValue.textContent = answer.pin;
      showPin.textContent = "Hide PIN";
    }, { class: cls("btn", "btn-plain") });
    const account = body.account || {};
    const summaryId = newId("summary");
    const summary = h("section", { class: cls("tile", "summary"), "aria-labelledby": summaryId },
      h("h2", { id: summaryId }, "Account Summary"),
      h("div", { role: "group", "aria-label": "Account" },
        h("div", { class: cls("summary-row") }, h("span", { class: cls("label") }, "Account Number"), h("span", {}, account.number || "")),
        h("div", { class: cls("summary-row") }, h("span", { id: pinLabel, class: cls("label") }, "Security PIN"), pinValue, showPin)));
    frame(
      h("h1", {}, "Nextiva Voice Admin Dashboard"),
      summary,
      h("div", { class: cls("tiles") },
        tile("Users", t.users, h("p", { class: cls("tile-links") },
          h("a", { href: "/app/people" }, "Manage"), " ", h("a", { href: "/app/people/new" }, "Add"))),
        tile("Locations", t.locations),
        tile("Phone Numbers", t.free_numbers, h("p", {}, "available")),
        tile("Devices", t.devices)));
  }

  function areaScreen(slug) {
    const titles = { numbers: "Numbers", devices: "Devices", "call-flows": "Call Flows", reports: "Reports", "help-center": "Help Center" };
    frame(h("h1", {}, titles[slug]), h("p", {}, "Nothing to manage here in this portal yet."));
    return Promise.resolve();
  }

  /* ---------- an ARIA table ---------- */
  function ariaTable({ role = "table", label, headers, rows }) {
    const cellRole = role === "grid" ? "gridcell" : "cell";
    return h("div", { role, "aria-label": label, class: cls("table") },
      h("div", { role: "rowgroup", class: cls("thead") },
        h("div", { role: "row", class: cls("tr") },
          headers.map((text) => h("div", { role: "columnheader", class: cls("th") }, text)))),
      h("div", { role: "rowgroup", class: cls("tbody") },
        rows.map((cells) => h("div", { role: "row", class: cls("tr") },
          cells.map((cell) => h("div", { role: cellRole, class: cls("td") }, cell))))));
  }

  /* ---------- Users Overview ---------- */
  async function usersScreen() {
    const mine = screenToken;
    const results = h("div", { class: cls("results"), "aria-live": "polite" });
    const search = textField("q", "Search users", "aria", { extra: { inputmode: "search" } });
    let request = 0;
    const load = async (query, page) => {
      const asked = ++request;
      results.setAttribute("aria-busy", "true");
      const params = new URLSearchParams({ q: query });
      if (page) params.set("page", page);
      const { ok, body } = await api("GET", `/users?${params}`);
      if (asked !== request || mine !== screenToken) return;
      results.removeAttribute("aria-busy");
      if (!ok) { put(results, h("p", { role: "alert", class: cls("message", "alert") }, body.error || WENT_WRONG)); return; }
      const rows = body.rows.map((r) => [
        h("a", { href: `/app/people/${r.id}`, class: cls("clip", "name-link") }, r.name),
        r.username, h("span", { class: cls("clip") }, r.email), r.extension, r.phone_number, r.location,
      ]);
      const previous = button("Previous", () => load(body.query, body.page - 1), { class: cls("btn", "secondary") });
      const next = button("Next", () => load(body.query, body.page + 1), { class: cls("btn", "secondary") });
      setDisabled(previous, body.page <= 1);
      setDisabled(next, body.page >= body.pages);
      const last = body.first + body.rows.length - 1;
      put(results, 
        ariaTable({ role: "grid", label: "Users", headers: ["Name", "Username", "Email", "Extension", "Phone Number", "Location"], rows }),
        body.rows.length ? null : h("p", { class: cls("empty") }, `No users found${body.query ? ` for “${body.query}”` : ""}.`),
        h("div", { class: cls("pager") },
          h("span", {}, body.total ? `${body.first}–${last} of ${body.total}` : "0 of 0"),
          previous, h("span", {}, `Page ${body.page} of ${body.pages}`), next));
    };
    let timer = null;
    search.input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(search.input.value.trim()), SEARCH_DEBOUNCE_MS);
    });
    search.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); load(search.input.value.trim()); }
    });
    frame(
      h("div", { class: cls("page-head") },
        h("h1", {}, "Users Overview"),
        button("Add Users", () => navigate("/app/people/new"), { class: cls("btn", "primary") })),
      h("div", { class: cls("search-row") }, search.field),
      results);
    await load("");
  }

  /* ---------- Create User ---------- */
  async function createUserScreen() {
    const mine = screenToken;
    const { body: options } = await api("GET", "/users/form");
    if (mine !== screenToken) return;
    const zones = Object.fromEntries(options.locations.map((l) => [l.name, l.time_zone]));
    const f = {
      first_name: textField("first_name", "First Name", "for", { autocomplete: "given-name" }),
      last_name: textField("last_name", "Last Name", "wrap", { autocomplete: "family-name" }),
      username: textField("username", "Username", "labelledby"),
      email: textField("email", "Email", "aria", { type: "email", autocomplete: "email" }),
      location: comboField("location", "Location", options.locations.map((l) => ({ value: l.name, label: l.name })), "Select a location"),
      time_zone: selectField("time_zone", "Time Zone", options.time_zones),
      phone_number: comboField("phone_number", "Phone Number", [], "Choose a location first"),
      package: comboField("package", "Package", options.packages.map((p) => ({ value: p, label: p })), "Select a package"),
      extension: textField("extension", "Extension", "for", { extra: { inputmode: "numeric" } }),
      unreachable_number: textField("unreachable_number", "Primary number unreachable", "labelledby", { type: "tel" }),
      pin: textField("pin", "PIN", "aria", { type: "password", autocomplete: "new-password", extra: { inputmode: "numeric", maxlength: "4" } }),
    };
    f.time_zone.setOptions(options.time_zones, "Select a time zone");
    setDisabled(f.phone_number.input, true);
    const voicemail = checkField("voicemail_to_email", "Enable Voicemail to Email", false, "for");
    const authorized = checkField("authorized_user", "Authorized User", false, "wrap");
    const welcome = checkField("welcome_email", "Send a Welcome email with login credentials to the user", false, "for");
    f.pin.field.hidden = true;
    authorized.input.addEventListener("change", () => { f.pin.field.hidden = !authorized.input.checked; });

    let numbersRequest = 0;
    const hint = h("p", { class: cls("hint") });
    f.location.onChange(async () => {
      const name = f.location.value;
      if (zones[name]) f.time_zone.set(zones[name]);
      const asked = ++numbersRequest;
      hint.textContent = "";
      if (!name) { f.phone_number.setOptions([], "Choose a location first", true); return; }
      f.phone_number.setOptions([], "Loading numbers…", true);
      const { ok, body } = await api("GET", `/locations/numbers?location=${encodeURIComponent(name)}`);
      if (asked !== numbersRequest || mine !== screenToken) return; // a later choice took over
      if (!ok) { f.phone_number.setOptions([], body.error || WENT_WRONG, true); return; }
      if (!body.numbers.length) {
        f.phone_number.setOptions([], "No numbers available", false);
        hint.textContent = `No phone numbers are available at ${name}.`;
      } else {
        f.phone_number.setOptions(body.numbers, "No phone number", false);
      }
    });
    f.phone_number.onChange(() => {
      const digits = f.phone_number.value.replace(/\D/g, "");
      if (digits.length >= 4) f.extension.input.value = digits.slice(-4);
    });
    f.phone_number.field.append(hint);

    const form = h("form", { class: cls("form"), novalidate: true });
    const top = h("div", { class: cls("messages") });
    const save = button("Save & Continue", submit, { class: cls("btn", "primary") });
    async function submit() {
      await busy(save, form, async () => {
        const payload = {};
        for (const [name, field] of Object.entries(f)) payload[name] = field.value !== undefined ? field.value : field.input.value;
        payload.voicemail_to_email = voicemail.input.checked;
        payload.authorized_user = authorized.input.checked;
        payload.welcome_email = welcome.input.checked;
        if (!authorized.input.checked) payload.pin = "";
        const { ok, body } = await api("POST", "/users", payload);
        if (ok) { navigate(`/app/people/${body.id}/emergency-address`); return; }
        showFieldErrors(form, f, body.errors, top);
        if (!body.errors) announce(top, body.error || WENT_WRONG, "alert");
        top.scrollIntoView({ block: "nearest" });
      });
    }
    form.onsubmit = (event) => { event.preventDefault(); submit(); };
    form.append(
      h("fieldset", {}, h("legend", {}, "User Profile"),
        h("div", { class: cls("cols") }, f.first_name.field, f.last_name.field, f.username.field, f.email.field),
        voicemail.field),
      h("fieldset", {}, h("legend", {}, "Phone"),
        h("div", { class: cls("cols") }, f.location.field, f.time_zone.field, f.phone_number.field, f.package.field,
          f.extension.field, f.unreachable_number.field)),
      h("fieldset", {}, h("legend", {}, "Access"), authorized.field, f.pin.field, welcome.field),
      h("div", { class: cls("actions") },
        button("Cancel", () => navigate("/app/people"), { class: cls("btn", "secondary") }), save));
    frame(h("h1", {}, "Create User"), top, form);
  }

  /* ---------- E911 Address ---------- */
  async function e911Screen(userId) {
    const mine = screenToken;
    const { ok, body } = await api("GET", `/users/${userId}/e911`);
    if (mine !== screenToken) return;
    if (!ok) { frame(h("h1", {}, "E911 Address"), h("p", { role: "alert", class: cls("message", "alert") }, body.error || WENT_WRONG)); return; }
    const a = body.address || {};
    const f = {
      street: textField("street", "Street Address", "for", { value: a.street || "", autocomplete: "street-address" }),
      city: textField("city", "City", "wrap", { value: a.city || "" }),
      state: textField("state", "State", "labelledby", { value: a.state || "" }),
      zip_code: textField("zip_code", "ZIP Code", "aria", { value: a.zip_code || "" }),
    };
    const form = h("form", { class: cls("form"), novalidate: true });
    const top = h("div", { class: cls("messages") });
    const save = button("Save & Continue", submit, { class: cls("btn", "primary") });
    async function submit() {
      await busy(save, form, async () => {
        const payload = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.input.value]));
        const result = await api("POST", `/users/${userId}/e911`, payload);
        if (result.ok) { app.flash = result.body.message || SAVED; navigate(`/app/people/${userId}`); return; }
        showFieldErrors(form, f, result.body.errors, top);
        if (!result.body.errors) announce(top, result.body.error || WENT_WRONG, "alert");
      });
    }
    form.onsubmit = (event) => { event.preventDefault(); submit(); };
    form.append(h("div", { class: cls("cols") }, Object.values(f).map((x) => x.field)), h("div", { class: cls("actions") }, save));
    frame(h("h1", {}, "E911 Address"),
      h("p", {}, `Confirm where ${body.user.name} (${body.user.username}) works: emergency services are sent to this address.`),
      top, form);
  }

  /* ---------- the user's page ---------- */
  async function userScreen(userId) {
    const mine = screenToken;
    const { ok, body } = await api("GET", `/users/${userId}`);
    if (mine !== screenToken) return;
    if (!ok) { frame(h("h1", {}, "User"), h("p", { role: "alert", class: cls("message", "alert") }, body.error || WENT_WRONG)); return; }
    let user = body.user;
    const heading = h("h1", {}, user.name);
    const subtitle = h("p", { class: cls("subtitle") });
    const drawSubtitle = () => { subtitle.textContent = `${user.username} · Ext. ${user.extension}${user.phone_number ? ` · ${user.phone_number}` : ""}`; };
    drawSubtitle();
    const sections = [
      ["profile", "Profile", drawProfile],
      ["device", "Device", drawDevice],
      ["voicemail", "Voicemail", drawVoicemail],
      ["security", "Security Information", drawSecurity],
    ];
    const holders = {};
    const list = h("div", { class: cls("sections") });
    for (const [key, title, draw] of sections) {
      const regionId = newId(`section-${key}`);
      const toggleId = newId(`section-${key}-toggle`);
      const content = h("div", { class: cls("section-content") });
      const messages = h("div", { class: cls("messages") });
      const region = h("div", { role: "region", id: regionId, "aria-labelledby": toggleId, class: cls("section-body"), hidden: true }, messages, content);
      const toggle = button([h("span", { class: cls("chevron"), "aria-hidden": "true" }), title], () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        region.hidden = !open;
      }, { id: toggleId, "aria-expanded": "false", "aria-controls": regionId, class: cls("section-toggle") });
      holders[key] = { content, messages, region, draw };
      list.append(h("div", { class: cls("section") }, h("h2", { class: cls("section-title") }, toggle), region));
      draw(holders[key]);
    }

    async function saveSection(key, payload, control, onSaved) {
      const holder = holders[key];
      clearMessages(holder.messages);
      await busy(control, holder.region, async () => {
        const { ok, body } = await api("POST", `/users/${userId}/${key}`, payload);
        if (ok) {
          user = body.user;
          Object.values(holders).forEach((x) => x.draw(x));
          drawSubtitle();
          announce(holder.messages, body.message || SAVED, "status");
          if (onSaved) onSaved();
        } else {
          announce(holder.messages, body.error || WENT_WRONG, "alert");
        }
      });
    }

    function facts(pairs) {
      return h("dl", { class: cls("facts") }, pairs.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
    }

    function drawProfile(holder) {
      put(holder.content, 
        facts([
          ["First Name", user.first_name], ["Last Name", user.last_name], ["Username", user.username],
          ["Email", user.email], ["Extension", user.extension], ["Phone Number", user.phone_number || "None"],
          ["Primary number unreachable", user.unreachable_number || "None"], ["Location", user.location],
          ["Time Zone", user.time_zone], ["Package", user.package],
          ["Voicemail to Email", user.voicemail_to_email ? "On" : "Off"],
          ["Authorized User", user.authorized_user ? "Yes" : "No"],
          ["E911 Address", user.e911_address || "None"],
          ["E911 Status", user.e911_confirmed ? "Confirmed" : "Not confirmed"],
          ["Call Recording", user.call_recording ? "On" : "Off"],
        ]),
        user.e911_confirmed ? null : button("Confirm E911 Address", () => navigate(`/app/people/${userId}/emergency-address`), { class: cls("btn", "secondary") }));
    }

    function drawDevice(holder) {
      const device = user.device;
      const kind = selectField("device", "Available Devices", user.devices.map((d) => ({ value: d, label: d })));
      kind.setOptions(user.devices.map((d) => ({ value: d, label: d })), "No device");
      kind.set(device ? device.type : "");
      const authName = textField("auth_name", "Authentication Name", "wrap", { value: device ? device.auth_name : user.username });
      const password = textField("auth_password", "Authentication Password", "labelledby", { type: "password", autocomplete: "new-password" });
      const generate = button("Generate", () => {
        const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        const bytes = new Uint8Array(16);
        crypto.getRandomValues(bytes);
        password.input.value = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
        password.input.dispatchEvent(new Event("input", { bubbles: true }));
      }, { class: cls("btn", "secondary") });
      password.field.append(generate);
      if (device && device.has_password) password.field.append(h("p", { class: cls("hint") }, "A password is set. Leave blank to keep it."));
      const save = button("Save", () => saveSection("device", {
        device: kind.value, auth_name: authName.input.value, auth_password: password.input.value,
      }, save), { class: cls("btn", "primary") });
      put(holder.content, kind.field, authName.field, password.field, h("div", { class: cls("actions") }, save));
    }

    function drawVoicemail(holder) {
      const vm = user.voicemail;
      const email = textField("voicemail_email", "Email Address", "for", { type: "email", value: vm.email || user.email });
      const attach = checkField("send_attachment", "Send Attachment Of Message", vm.send_attachment, "wrap");
      const form = h("div", { class: cls("edit-form"), hidden: true });
      const edit = button(h("span", { class: cls("pencil"), "aria-hidden": "true" }), () => {
        form.hidden = !form.hidden;
        edit.setAttribute("aria-expanded", form.hidden ? "false" : "true");
      }, { "aria-label": "Edit Voicemail", "aria-expanded": "false", class: cls("icon-btn") });
      const save = button("Save", () => saveSection("voicemail", {
        voicemail_email: email.input.value, send_attachment: attach.input.checked,
      }, save), { class: cls("btn", "primary") });
      form.append(email.field, attach.field, h("div", { class: cls("actions") }, save));
      put(holder.content, 
        h("div", { class: cls("view-with-edit") },
          facts([
            ["Voicemail to Email", user.voicemail_to_email ? "On" : "Off"],
            ["Email Address", vm.email || "None"],
            ["Send Attachment Of Message", vm.send_attachment ? "Yes" : "No"],
          ]), edit),
        form);
    }

    function drawSecurity(holder) {
      const authorized = checkField("authorized_user", "Authorized User", user.authorized_user, "for");
      const pin = textField("security_pin", "Security PIN", "aria", {
        type: "password", autocomplete: "new-password", extra: { inputmode: "numeric", maxlength: "4" },
      });
      const save = button("Save", () => saveSection("security", {
        authorized_user: authorized.input.checked, security_pin: pin.input.value,
      }, save), { class: cls("btn", "primary") });
      put(holder.content, 
        authorized.field, pin.field,
        user.has_pin ? h("p", { class: cls("hint") }, "A PIN is set. Leave blank to keep it.") : null,
        h("div", { class: cls("actions") }, save));
    }

    frame(h("p", { class: cls("crumbs") }, h("a", { href: "/app/people" }, "Users"), " › ", h("span", { class: cls("clip") }, user.name)),
      heading, subtitle, list);
  }

  /* ---------- My Account, Licensing, Assign ---------- */
  async function myAccountScreen() {
    frame(
      h("h1", {}, "My Account Overview"),
      h("div", { class: cls("tiles") },
        h("section", { class: cls("tile") }, h("h2", {}, "Account"), h("p", {}, app.admin)),
        h("section", { class: cls("tile") }, h("h2", {}, "Licenses"), h("p", {}, h("a", { href: "/app/account/licences" }, "Licensing"))),
        h("section", { class: cls("tile") }, h("h2", {}, "Billing"), h("p", {}, "Paid monthly"))));
  }

  async function licensingScreen() {
    const mine = screenToken;
    const { body } = await api("GET", "/licenses");
    if (mine !== screenToken) return;
    const rows = body.licenses.map((l) => [
      h("span", { class: cls("clip") }, l.name),
      `${l.used} of ${l.total}`,
      button("Assign", () => navigate(`/app/account/licences/${l.index}/assign`), { class: cls("btn", "secondary") }),
    ]);
    frame(
      h("p", { class: cls("crumbs") }, h("a", { href: "/app/account" }, "My Account"), " › Licensing"),
      h("h1", {}, "Licensing"),
      ariaTable({ label: "Licenses", headers: ["License", "Seats", h("span", { class: cls("visually-hidden") }, "Actions")], rows }));
  }

  async function assignScreen(index) {
    const mine = screenToken;
    const first = await api("GET", `/licenses/${index}/assign`);
    if (mine !== screenToken) return;
    if (!first.ok) { frame(h("h1", {}, "Assign"), h("p", { role: "alert", class: cls("message", "alert") }, first.body.error || WENT_WRONG)); return; }
    const heading = h("h1", {});
    const seats = h("p", { class: cls("seats") });
    const top = h("div", { class: cls("messages") });
    const list = h("div", { role: "group", "aria-label": "Users", class: cls("checklist") });
    const search = textField("assign_q", "Search", "for", { extra: { inputmode: "search" } });
    let shown = [];
    let query = "";
    let request = 0;
    const draw = (view, keepTouched) => {
      heading.textContent = `Assign ${view.license.name}`;
      seats.textContent = `${view.license.used} of ${view.license.total} seats used`;
      // Boxes the admin already ticked or cleared keep their state when the list redraws.
      const touched = new Map();
      if (keepTouched) list.querySelectorAll("input[type=checkbox]").forEach((b) => { if (b.checked !== b.defaultChecked) touched.set(b.value, b.checked); });
      query = view.query;
      shown = view.users.map((u) => u.username);
      put(list, ...(view.users.length ? view.users.map((u) => {
        const box = checkField("selected", u.label, u.checked, "wrap");
        box.input.value = u.username;
        box.input.defaultChecked = u.checked;
        if (touched.has(u.username)) box.input.checked = touched.get(u.username);
        box.field.classList.add(...cls("clip").split(" "));
        return box.field;
      }) : [h("p", { class: cls("empty") }, `No users match “${view.query}”.`)]));
    };
    draw(first.body, false);
    let timer = null;
    const load = async () => {
      const asked = ++request;
      const { ok, body } = await api("GET", `/licenses/${index}/assign?${new URLSearchParams({ q: search.input.value.trim() })}`);
      if (asked !== request || mine !== screenToken) return;
      if (ok) draw(body, true);
      else announce(top, body.error || WENT_WRONG, "alert");
    };
    search.input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, SEARCH_DEBOUNCE_MS); });
    search.input.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); load(); } });
    const save = button("Save", async () => {
      clearTimeout(timer);
      await busy(save, list, async () => {
        const selected = Array.from(list.querySelectorAll("input[type=checkbox]")).filter((b) => b.checked).map((b) => b.value);
        const { ok, body } = await api("POST", `/licenses/${index}/assign`, { q: query, shown, selected });
        if (body.users) draw(body, !ok);
        announce(top, ok ? body.message || SAVED : body.error || WENT_WRONG, ok ? "status" : "alert");
      });
    }, { class: cls("btn", "primary") });
    frame(
      h("p", { class: cls("crumbs") }, h("a", { href: "/app/account/licences" }, "Licensing"), " › Assign"),
      heading, seats, top,
      h("div", { class: cls("search-row") }, search.field),
      list,
      h("div", { class: cls("actions") }, button("Cancel", () => navigate("/app/account/licences"), { class: cls("btn", "secondary") }), save));
  }

  /* ---------- Chat With an Expert: drawn from the conversation the server keeps ---------- */
  const chat = (function () {
    let current = null;
    let poll = null;
    let identifying = false;
    const error = h("div", { class: cls("chat-error") });
    const body = h("div", { class: cls("chat-body") });
    const log = h("div", { role: "log", "aria-label": "Conversation", class: cls("chat-log") });
    const panel = h("div", { role: "dialog", "aria-label": "Chat With an Expert", class: cls("chat-panel"), hidden: true },
      h("div", { class: cls("chat-head") }, h("h2", {}, "Chat With an Expert"),
        button("", () => { panel.hidden = true; }, { "aria-label": "Minimize chat", class: cls("icon-btn", "minimize") })),
      body, error);
    const greeting = h("div", { class: cls("greeting"), hidden: true },
      h("p", {}, "Hi there! Need a hand setting up your users? Our experts are online."));
    greeting.append(button("Dismiss message", () => {
      greeting.hidden = true;
      sessionStorage.setItem(`${K}-greeting-dismissed`, "1");
    }, { class: cls("btn", "btn-plain") }));
    const bubble = button("Chat With an Expert", () => {
      panel.hidden = false;
      greeting.hidden = true;
      // The conversation may have gone on in another tab or before a reload.
      load();
    }, { class: cls("bubble") });
    const element = h("div", { class: cls("chat") }, greeting, panel, bubble);

    const showError = (text) => {
      put(error, ...(text ? [h("p", { role: "alert" }, text)] : []));
    };
    const call = async (method, path, payload) => {
      const { ok, body: answer } = await api(method, path, payload);
      if (!ok) throw new Error(answer.error || WENT_WRONG);
      return answer;
    };
    const guarded = (work) => async () => {
      try { await work(); showError(""); } catch (e) { if (!(e instanceof Unauthorized)) showError(e.message); }
    };

    async function load() {
      try { draw((await call("GET", "/chat")).chat); } catch (e) { if (!(e instanceof Unauthorized)) showError(e.message); }
    }

    function draw(view) {
      current = view;
      clearTimeout(poll);
      if (!view) {
        if (!identifying) startStep();
        return;
      }
      identifying = false;
      put(log, view.messages.map((m) => h("p", { class: cls(`chat-${m.who}`) }, m.text)));
      const endChat = button("End Chat", () => confirmEnd(endChat), { class: cls("btn", "secondary") });
      if (view.state === "topics") {
        put(body, view.messages.length ? log : null, h("p", {}, view.prompt),
          h("div", { class: cls("chat-choices") }, view.choices.map((choice) =>
            button(choice, guarded(async () => draw((await call("POST", `/chat/${view.id}`, { topic: choice })).chat)), { class: cls("btn", "secondary") }))),
          endChat);
      } else {
        const message = h("textarea", { rows: "2", "aria-label": "Message", class: cls("input") });
        const send = guarded(async () => {
          const text = message.value.trim();
          if (!text) return;
          const answer = await call("POST", `/chat/${view.id}`, { message: text });
          message.value = "";
          draw(answer.chat);
        });
        put(body, log, message, h("div", { class: cls("actions") }, button("Send", send, { class: cls("btn", "primary") }), endChat));
      }
      log.scrollTop = log.scrollHeight;
      // Nobody there yet: look again in a moment for the agent.
      if (view.state === "waiting") poll = setTimeout(load, 500);
    }

    function confirmEnd(opener) {
      if (body.querySelector("[role=alertdialog]")) return;
      const box = h("div", { role: "alertdialog", "aria-label": "End this chat?", class: cls("confirm") }, h("p", {}, "End this chat?"));
      box.append(
        button("End Chat", guarded(async () => {
          await call("POST", `/chat/${current.id}/end`, {});
          draw(null);
        }), { class: cls("btn", "primary") }),
        button("Cancel", () => box.remove(), { class: cls("btn", "secondary") }));
      opener.after(box);
    }

    function startStep() {
      put(body, h("p", {}, "Our experts are here to help."), button("Start Chat", identifyStep, { class: cls("btn", "primary") }));
    }
    function identifyStep() {
      identifying = true;
      const email = textField("chat_email", "Email", "for", { type: "email", autocomplete: "email" });
      const pin = textField("chat_pin", "PIN", "wrap", { type: "password", extra: { inputmode: "numeric" } });
      const go = guarded(async () => {
        const answer = await call("POST", "/chat", { email: email.input.value, pin: pin.input.value });
        pin.input.value = "";
        draw(answer.chat);
      });
      put(body, email.field, pin.field, button("Continue", go, { class: cls("btn", "primary") }));
    }
    startStep();

    return {
      element,
      placed() {
        document.body.classList.toggle(`${K}-overlap`, app.overlap);
        if (app.overlap && greeting.hidden && !sessionStorage.getItem(`${K}-greeting-dismissed`) && !greeting.dataset.shown) {
          greeting.dataset.shown = "1";
          // The greeting pops up a moment after the page settles, as the real one does.
          setTimeout(() => { greeting.hidden = false; }, 400);
        }
      },
    };
  })();

  /* ---------- start ---------- */
  (async function start() {
    try {
      const session = await loadSession();
      if (!session.signed_in) { showSignIn(session.alert); return; }
      render();
    } catch (e) {
      if (!(e instanceof Unauthorized)) throw e;
    }
  })();
})();
