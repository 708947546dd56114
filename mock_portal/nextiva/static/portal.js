/* The mock portal's behaviour in the browser: menus, dropdown widgets, live search,
   section saves through fetch(), the spinner, and the chat bubble. Plain JS, no build. */
"use strict";

(function () {
  const SOMETHING_WENT_WRONG = "Something went wrong. Please try again.";
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
  const signInUrl = () => document.body.dataset.signInUrl || "/";

  /* fetch() with the portal's CSRF header; an expired session goes back to sign-in. */
  async function portalFetch(url, options = {}) {
    const headers = Object.assign(
      { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
      options.headers || {}
    );
    const response = await fetch(url, Object.assign({}, options, { headers, credentials: "same-origin" }));
    if (response.status === 401) {
      window.location.assign(signInUrl());
      throw new Error("signed out");
    }
    return response;
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (e) {
      return { error: SOMETHING_WENT_WRONG };
    }
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /* ---------- banner ---------- */
  document.querySelectorAll("[data-dismiss-banner]").forEach((button) => {
    button.addEventListener("click", () => button.closest("[data-banner]").remove());
  });

  /* ---------- menus (menubar items, the account and help menus) ---------- */
  function closeMenus(except) {
    document.querySelectorAll("[data-menu-button][aria-expanded='true']").forEach((b) => {
      if (b !== except) setMenu(b, false);
    });
  }
  function setMenu(button, open) {
    const menu = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (menu) menu.hidden = !open;
  }
  document.querySelectorAll("[data-menu-button]").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      const open = button.getAttribute("aria-expanded") !== "true";
      closeMenus(button);
      setMenu(button, open);
      if (open) {
        const first = document.getElementById(button.getAttribute("aria-controls"))
          ?.querySelector("[role=menuitem]");
        if (first && event.detail === 0) first.focus();
      }
    });
    const holder = button.closest("[data-hover-menu]");
    if (holder) {
      holder.addEventListener("mouseenter", () => { closeMenus(button); setMenu(button, true); });
      holder.addEventListener("mouseleave", () => setMenu(button, false));
    }
  });
  document.addEventListener("click", () => closeMenus(null));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeMenus(null);
  });

  /* ---------- ARIA combobox (select-only) ---------- */
  const combos = new WeakMap();

  function comboOf(root) {
    if (combos.has(root)) return combos.get(root);
    const box = root.querySelector("[role=combobox]");
    const list = root.querySelector("[role=listbox]");
    const input = root.querySelector("input[type=hidden]");
    let active = -1;
    const options = () => Array.from(list.querySelectorAll("[role=option]"));
    const disabled = () => box.getAttribute("aria-disabled") === "true";
    const open = () => {
      if (disabled()) return;
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
      active = Math.max(0, options().findIndex((o) => o.getAttribute("aria-selected") === "true"));
      highlight();
    };
    const close = () => {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
    };
    const highlight = () => {
      options().forEach((o, i) => o.classList.toggle("active", i === active));
      const current = options()[active];
      if (current) {
        if (!current.id) current.id = `${list.id}-o${active}`;
        box.setAttribute("aria-activedescendant", current.id);
        current.scrollIntoView({ block: "nearest" });
      }
    };
    const choose = (option) => {
      options().forEach((o) => o.setAttribute("aria-selected", o === option ? "true" : "false"));
      box.textContent = option.textContent;
      const changed = input.value !== option.dataset.value;
      input.value = option.dataset.value;
      close();
      if (changed) input.dispatchEvent(new Event("change", { bubbles: true }));
    };
    box.addEventListener("click", (event) => {
      event.stopPropagation();
      if (list.hidden) open(); else close();
    });
    box.addEventListener("keydown", (event) => {
      const all = options();
      if (["ArrowDown", "ArrowUp", "Enter", " "].includes(event.key)) event.preventDefault();
      if (list.hidden) {
        if (["ArrowDown", "ArrowUp", "Enter", " "].includes(event.key)) open();
        return;
      }
      if (event.key === "ArrowDown") { active = Math.min(all.length - 1, active + 1); highlight(); }
      else if (event.key === "ArrowUp") { active = Math.max(0, active - 1); highlight(); }
      else if (event.key === "Enter" || event.key === " ") { if (all[active]) choose(all[active]); }
      else if (event.key === "Escape" || event.key === "Tab") close();
      else if (event.key.length === 1) {
        const i = all.findIndex((o) => o.textContent.trim().toLowerCase().startsWith(event.key.toLowerCase()));
        if (i >= 0) { active = i; highlight(); }
      }
    });
    list.addEventListener("click", (event) => {
      event.stopPropagation();
      const option = event.target.closest("[role=option]");
      if (option) choose(option);
    });
    document.addEventListener("click", close);
    const api = {
      get value() { return input.value; },
      set(value) {
        const option = options().find((o) => o.dataset.value === value);
        if (option) choose(option);
      },
      setOptions(items, placeholder, isDisabled) {
        list.innerHTML = "";
        const make = (value, label) => {
          const li = document.createElement("li");
          li.setAttribute("role", "option");
          li.dataset.value = value;
          li.textContent = label;
          li.setAttribute("aria-selected", "false");
          list.appendChild(li);
        };
        if (placeholder) make("", placeholder);
        items.forEach((item) => make(item.value, item.label));
        input.value = "";
        box.textContent = placeholder || "";
        box.dataset.placeholder = placeholder || "";
        if (isDisabled) box.setAttribute("aria-disabled", "true");
        else box.removeAttribute("aria-disabled");
        if (placeholder) list.firstChild.setAttribute("aria-selected", "true");
      },
    };
    combos.set(root, api);
    return api;
  }
  document.querySelectorAll("[data-combobox]").forEach(comboOf);

  /* The same small interface over a native <select> and an ARIA combobox. */
  function dropdown(field, scope = document) {
    const holder = scope.querySelector(`[data-dropdown="${field}"]`);
    if (!holder) return null;
    const combo = holder.querySelector("[data-combobox]");
    if (combo) {
      const api = comboOf(combo);
      return {
        holder,
        input: combo.querySelector("input[type=hidden]"),
        get value() { return api.value; },
        set: (v) => api.set(v),
        setOptions: (items, placeholder, disabled) => api.setOptions(items, placeholder, disabled),
      };
    }
    const select = holder.querySelector("select");
    return {
      holder,
      input: select,
      get value() { return select.value; },
      set(value) {
        if (select.value !== value) {
          select.value = value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
      },
      setOptions(items, placeholder, disabled) {
        select.innerHTML = "";
        const make = (value, label) => {
          const option = document.createElement("option");
          option.value = value;
          option.textContent = label;
          select.appendChild(option);
        };
        if (placeholder) make("", placeholder);
        items.forEach((item) => make(item.value, item.label));
        select.disabled = Boolean(disabled);
      },
    };
  }

  /* ---------- full-page form posts: spinner overlay ---------- */
  function showSpinner() {
    const overlay = document.querySelector("[data-saving-overlay]");
    if (overlay) overlay.hidden = false;
  }
  document.querySelectorAll("form[data-spinner]").forEach((form) => {
    form.addEventListener("submit", () => {
      showSpinner();
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
    });
  });
  // Coming back through the browser's history must not leave a stale spinner up.
  window.addEventListener("pageshow", () => {
    const overlay = document.querySelector("[data-saving-overlay]");
    if (overlay) overlay.hidden = true;
    document.querySelectorAll("form[data-spinner] button[type=submit]").forEach((b) => { b.disabled = false; });
  });

  /* ---------- checkboxes that reveal a field ---------- */
  document.querySelectorAll("[data-reveals]").forEach((box) => {
    const target = document.querySelector(box.dataset.reveals);
    box.addEventListener("change", () => { if (target) target.hidden = !box.checked; });
  });

  /* ---------- Create User ---------- */
  const createForm = document.querySelector("[data-create-user]");
  if (createForm) {
    const zones = JSON.parse(createForm.querySelector("[data-location-zones]").textContent);
    const location = dropdown("location", createForm);
    const timeZone = dropdown("time_zone", createForm);
    const phone = dropdown("phone_number", createForm);
    const extension = createForm.querySelector("input[name=extension]");
    let request = 0;

    const setHint = (text) => {
      let hint = phone.holder.querySelector("[data-hint]");
      if (!text) { if (hint) hint.remove(); return; }
      if (!hint) {
        hint = document.createElement("p");
        hint.className = "hint";
        hint.dataset.hint = "phone_number";
        phone.holder.appendChild(hint);
      }
      hint.textContent = text;
    };

    location.input.addEventListener("change", async () => {
      const name = location.value;
      if (zones[name]) timeZone.set(zones[name]);
      const mine = ++request;
      phone.setOptions([], "Loading numbers…", true);
      setHint("");
      if (!name) { phone.setOptions([], "Choose a location first", true); return; }
      try {
        const response = await portalFetch(
          `${createForm.dataset.numbersUrl}?location=${encodeURIComponent(name)}`,
          { headers: { Accept: "application/json" } }
        );
        const body = await readJson(response);
        if (mine !== request) return; // a later choice of location has taken over
        if (!response.ok) { phone.setOptions([], body.error || SOMETHING_WENT_WRONG, true); return; }
        if (body.numbers.length === 0) {
          phone.setOptions([], "No numbers available", false);
          setHint(`No phone numbers are available at ${name}.`);
        } else {
          phone.setOptions(body.numbers, "No phone number", false);
        }
      } catch (e) {
        if (mine === request) phone.setOptions([], SOMETHING_WENT_WRONG, true);
      }
    });

    phone.input.addEventListener("change", () => {
      const digits = (phone.value || "").replace(/\D/g, "");
      if (digits.length >= 4) extension.value = digits.slice(-4);
    });
  }

  /* ---------- live search (Users Overview, Assign) and the pager ---------- */
  document.querySelectorAll("[data-live-search]").forEach((box) => {
    const target = document.querySelector(box.dataset.target);
    let request = 0;
    const load = async (query, page) => {
      const mine = ++request;
      target.setAttribute("aria-busy", "true");
      const params = new URLSearchParams({ q: query });
      if (page) params.set("page", page);
      try {
        const response = await portalFetch(`${box.dataset.url}?${params}`);
        const html = await response.text();
        if (mine !== request) return;
        if (!response.ok) {
          target.innerHTML = `<p role="alert" class="notice notice-error">${SOMETHING_WENT_WRONG}</p>`;
        } else {
          // Boxes the admin already ticked or cleared keep their state when the list redraws.
          const touched = new Map();
          target.querySelectorAll("input[type=checkbox]").forEach((b) => {
            if (b.checked !== b.defaultChecked) touched.set(b.value, b.checked);
          });
          target.innerHTML = html;
          target.querySelectorAll("input[type=checkbox]").forEach((b) => {
            if (touched.has(b.value)) b.checked = touched.get(b.value);
          });
          const mirror = document.querySelector("[data-query-mirror]");
          if (mirror) mirror.value = query;
        }
      } finally {
        if (mine === request) target.removeAttribute("aria-busy");
      }
    };
    box.addEventListener("input", debounce(() => load(box.value.trim()), 300));
    const form = box.closest("form");
    if (form) form.addEventListener("submit", (event) => { event.preventDefault(); load(box.value.trim()); });
    target.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-page]");
      if (!button || button.disabled) return;
      event.preventDefault();
      load(button.dataset.query || "", button.dataset.page);
    });
  });
  // Search boxes outside a form submit nothing on Enter.
  document.querySelectorAll("[data-live-search]").forEach((box) => {
    box.addEventListener("keydown", (event) => { if (event.key === "Enter" && !box.form) event.preventDefault(); });
  });

  /* ---------- the user's page: sections ---------- */
  document.querySelectorAll("[data-section-toggle]").forEach((button) => {
    button.addEventListener("click", () => {
      const region = document.getElementById(button.getAttribute("aria-controls"));
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      region.hidden = !open;
    });
  });

  function wireSection(content) {
    content.querySelectorAll("[data-combobox]").forEach(comboOf);
    content.querySelectorAll("[data-generate]").forEach((button) => {
      button.addEventListener("click", () => {
        const field = button.closest(".field").querySelector("[data-generated-password]");
        const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        const bytes = new Uint8Array(16);
        crypto.getRandomValues(bytes);
        field.value = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
        field.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
    content.querySelectorAll("[data-reveal-edit]").forEach((button) => {
      const form = content.querySelector("[data-edit-form]");
      button.addEventListener("click", () => {
        const open = form.hidden;
        form.hidden = !open;
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
    content.querySelectorAll("form[data-section-form]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        saveSection(form);
      });
    });
  }

  function say(messages, role, text) {
    messages.innerHTML = "";
    const p = document.createElement("p");
    p.setAttribute("role", role);
    p.className = role === "status" ? "notice notice-ok" : "notice notice-error";
    p.textContent = text;
    messages.appendChild(p);
  }

  async function saveSection(form) {
    const region = form.closest("[role=region]");
    const content = region.querySelector("[data-section-content]");
    const messages = region.querySelector("[data-section-messages]");
    const editOpen = !!form.matches("[data-edit-form]");
    messages.innerHTML = '<div class="inline-spinner"><div class="spinner" role="progressbar" aria-label="Saving"></div> Saving…</div>';
    region.setAttribute("aria-busy", "true");
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const response = await portalFetch(form.action, { method: "POST", body: new FormData(form) });
      const body = await readJson(response);
      if (response.ok) {
        content.innerHTML = body.html;
        wireSection(content);
        say(messages, "status", body.message || "Changes saved.");
      } else {
        form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        say(messages, "alert", response.status >= 500 ? SOMETHING_WENT_WRONG : body.error || SOMETHING_WENT_WRONG);
        if (editOpen) form.hidden = false;
      }
    } catch (e) {
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      if (String(e.message) !== "signed out") say(messages, "alert", SOMETHING_WENT_WRONG);
    } finally {
      region.removeAttribute("aria-busy");
    }
  }
  document.querySelectorAll("[data-section-content]").forEach(wireSection);

  /* ---------- account summary: Show PIN ---------- */
  document.querySelectorAll("[data-account-summary]").forEach((summary) => {
    const value = summary.querySelector("[data-account-pin]");
    const toggle = summary.querySelector("[data-show-pin]");
    toggle.addEventListener("click", async () => {
      if (toggle.textContent === "Hide PIN") {
        value.textContent = "••••";
        toggle.textContent = "Show PIN";
        return;
      }
      const response = await portalFetch(summary.dataset.pinUrl, { headers: { Accept: "application/json" } });
      const body = await readJson(response);
      if (!response.ok) return;
      // The PIN is asked for only when the admin wants to see it.
      value.textContent = body.pin;
      toggle.textContent = "Hide PIN";
    });
  });

  /* ---------- Chat With an Expert: drawn from the conversation the server keeps ---------- */
  const chat = document.querySelector("[data-chat]");
  if (chat) {
    const url = chat.dataset.chatUrl;
    const panel = chat.querySelector("[data-chat-panel]");
    const greeting = chat.querySelector("[data-chat-greeting]");
    const error = chat.querySelector("[data-chat-error]");
    const logList = chat.querySelector("[data-chat-log]");
    const actions = chat.querySelector("[data-chat-actions]");
    const confirm = chat.querySelector("[data-chat-confirm]");
    const steps = (name) => chat.querySelectorAll("[data-chat-step]").forEach((s) => { s.hidden = s.dataset.chatStep !== name; });
    let current = null;
    let poll = null;

    const showError = (text) => {
      error.innerHTML = "";
      if (text) {
        const p = document.createElement("p");
        p.setAttribute("role", "alert");
        p.textContent = text;
        error.appendChild(p);
      }
    };
    const call = async (path, payload) => {
      const options = { headers: { Accept: "application/json" } };
      if (payload !== undefined) {
        options.method = "POST";
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(payload);
      }
      const response = await portalFetch(path, options);
      const body = await readJson(response);
      if (!response.ok) throw new Error(response.status >= 500 ? SOMETHING_WENT_WRONG : body.error || SOMETHING_WENT_WRONG);
      return body;
    };
    const draw = (view) => {
      current = view;
      clearTimeout(poll);
      confirm.hidden = true;
      if (!view) {
        logList.hidden = true;
        logList.innerHTML = "";
        actions.hidden = true;
        if (!chat.querySelector("[data-chat-step=identify]").hidden) return;
        steps("start");
        return;
      }
      logList.hidden = view.messages.length === 0;
      logList.innerHTML = "";
      view.messages.forEach((m) => {
        const li = document.createElement("li");
        li.className = m.who;
        li.textContent = m.text;
        logList.appendChild(li);
      });
      logList.scrollTop = logList.scrollHeight;
      actions.hidden = false;
      if (view.state === "topics") {
        chat.querySelector("[data-chat-prompt]").textContent = view.prompt;
        const holder = chat.querySelector("[data-chat-choices]");
        holder.innerHTML = "";
        view.choices.forEach((choice) => {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "btn btn-secondary";
          b.textContent = choice;
          b.addEventListener("click", async () => {
            try {
              draw((await call(`${url}/${current.id}`, { topic: choice })).chat);
              showError("");
            } catch (e) { showError(e.message); }
          });
          holder.appendChild(b);
        });
        steps("topics");
      } else {
        steps("talk");
      }
      // Nobody there yet: look again in a moment for the agent.
      if (view.state === "waiting") poll = setTimeout(load, 500);
    };
    async function load() {
      try { draw((await call(url)).chat); } catch (e) { if (String(e.message) !== "signed out") showError(e.message); }
    }

    chat.querySelector("[data-chat-open]").addEventListener("click", () => {
      panel.hidden = false;
      greeting.hidden = true;
    });
    chat.querySelector("[data-chat-minimize]").addEventListener("click", () => { panel.hidden = true; });
    chat.querySelector("[data-chat-start]").addEventListener("click", () => { showError(""); steps("identify"); });
    chat.querySelector("[data-chat-step=identify]").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      try {
        const body = await call(url, { email: form.email.value, pin: form.pin.value });
        form.pin.value = "";
        showError("");
        steps("topics");
        draw(body.chat);
      } catch (e) { showError(e.message); }
    });
    chat.querySelector("[data-chat-send]").addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = event.target.message;
      const text = box.value.trim();
      if (!text || !current) return;
      try {
        const body = await call(`${url}/${current.id}`, { message: text });
        box.value = "";
        showError("");
        draw(body.chat);
      } catch (e) { showError(e.message); }
    });
    chat.querySelector("[data-chat-end]").addEventListener("click", () => { confirm.hidden = false; });
    chat.querySelector("[data-chat-end-no]").addEventListener("click", () => { confirm.hidden = true; });
    chat.querySelector("[data-chat-end-yes]").addEventListener("click", async () => {
      if (!current) return;
      try {
        await call(`${url}/${current.id}/end`, {});
        showError("");
        steps("start");
        draw(null);
      } catch (e) { showError(e.message); }
    });
    chat.querySelector("[data-dismiss-greeting]").addEventListener("click", () => { greeting.hidden = true; });
    if (document.body.dataset.greeting === "on" && !sessionStorage.getItem("greeting-dismissed")) {
      // The greeting pops up a moment after the page settles, as the real one does.
      setTimeout(() => { greeting.hidden = false; }, 400);
    }
    chat.querySelector("[data-dismiss-greeting]").addEventListener("click", () => {
      sessionStorage.setItem("greeting-dismissed", "1");
    });
    // A conversation going on when the page loaded (a reload, another screen) is drawn again.
    if (chat.dataset.chatActive === "yes") load();
  }

  document.body.classList.remove("booting");
})();
