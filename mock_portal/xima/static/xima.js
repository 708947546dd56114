/* The Xima mock's behaviour in the browser: dropdown widgets, live search and pages, the
   delete dialog, the numbers of an area code, and Save Address. Plain JS, no build. */
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

  /* ---------- banner and spinner ---------- */
  document.querySelectorAll("[data-dismiss-banner]").forEach((button) => {
    button.addEventListener("click", () => button.closest("[data-banner]").remove());
  });
  const overlay = document.querySelector("[data-saving-overlay]");
  document.querySelectorAll("form[data-spinner]").forEach((form) => {
    form.addEventListener("submit", () => {
      if (overlay) overlay.hidden = false;
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
    });
  });
  // Coming back through the browser's history must not leave a stale spinner up.
  window.addEventListener("pageshow", () => {
    if (overlay) overlay.hidden = true;
    document.querySelectorAll("form[data-spinner] button[type=submit]").forEach((b) => { b.disabled = false; });
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
    const highlight = () => {
      options().forEach((o, i) => o.classList.toggle("active", i === active));
      const current = options()[active];
      if (current) {
        if (!current.id) current.id = `${list.id}-o${active}`;
        box.setAttribute("aria-activedescendant", current.id);
        current.scrollIntoView({ block: "nearest" });
      }
    };
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
    });
    list.addEventListener("click", (event) => {
      event.stopPropagation();
      const option = event.target.closest("[role=option]");
      if (option) choose(option);
    });
    document.addEventListener("click", close);
    const api = {
      input,
      get value() { return input.value; },
      add(value, label) {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.value = value;
        li.textContent = label;
        li.setAttribute("aria-selected", "false");
        list.appendChild(li);
        return li;
      },
      set(value) {
        const option = options().find((o) => o.dataset.value === value);
        if (option) choose(option);
      },
      setOptions(items, placeholder, isDisabled) {
        list.innerHTML = "";
        if (placeholder) api.add("", placeholder).setAttribute("aria-selected", "true");
        items.forEach((item) => api.add(item.value, item.label));
        input.value = "";
        box.textContent = placeholder || "";
        if (isDisabled) box.setAttribute("aria-disabled", "true");
        else box.removeAttribute("aria-disabled");
      },
    };
    combos.set(root, api);
    return api;
  }
  document.querySelectorAll("[data-combobox]").forEach(comboOf);

  /* The same small interface over a native <select> and an ARIA combobox. */
  function dropdown(field, scope) {
    const holder = scope.querySelector(`[data-dropdown="${field}"]`);
    const combo = holder.querySelector("[data-combobox]");
    if (combo) return comboOf(combo);
    const select = holder.querySelector("select");
    const make = (value, label) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      select.appendChild(option);
    };
    return {
      input: select,
      get value() { return select.value; },
      add: make,
      set(value) {
        if (select.value !== value) {
          select.value = value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
      },
      setOptions(items, placeholder, disabled) {
        select.innerHTML = "";
        if (placeholder) make("", placeholder);
        items.forEach((item) => make(item.value, item.label));
        select.disabled = Boolean(disabled);
      },
    };
  }

  function say(holder, role, text) {
    holder.innerHTML = "";
    if (!text) return;
    const p = document.createElement("p");
    p.setAttribute("role", role);
    p.className = role === "status" ? "xm-notice xm-notice-ok" : "xm-notice xm-notice-error";
    p.textContent = text;
    holder.appendChild(p);
  }

  /* ---------- Users: live search, pages, the delete dialog ---------- */
  const results = document.querySelector("[data-users-results]");
  const search = document.querySelector("[data-live-search]");
  if (results && search) {
    let request = 0;
    const load = async (query, page) => {
      const mine = ++request;
      results.setAttribute("aria-busy", "true");
      const params = new URLSearchParams({ q: query });
      if (page) params.set("page", page);
      try {
        const response = await portalFetch(`${search.dataset.url}?${params}`);
        const html = await response.text();
        if (mine !== request) return; // a later search has taken over
        if (response.ok) results.innerHTML = html;
        else say(results, "alert", SOMETHING_WENT_WRONG);
      } catch (e) {
        if (mine === request && String(e.message) !== "signed out") say(results, "alert", SOMETHING_WENT_WRONG);
      } finally {
        if (mine === request) results.removeAttribute("aria-busy");
      }
    };
    search.addEventListener("input", debounce(() => load(search.value.trim()), 300));
    search.form.addEventListener("submit", (event) => { event.preventDefault(); load(search.value.trim()); });
    results.addEventListener("submit", (event) => {
      const form = event.target.closest("[data-pager]");
      if (!form) return;
      event.preventDefault();
      load(form.q.value, event.submitter ? event.submitter.value : "");
    });

    const dialog = document.querySelector("[data-delete-dialog]");
    results.addEventListener("click", (event) => {
      const link = event.target.closest("[data-delete-url]");
      if (!link) return;
      event.preventDefault();
      dialog.querySelector("h2").textContent = `Delete ${link.dataset.name}?`;
      dialog.querySelector("form").action = link.dataset.deleteUrl;
      dialog.querySelector("button[type=submit]").disabled = false;
      dialog.showModal();
    });
    dialog.querySelector("[data-close-dialog]").addEventListener("click", (event) => {
      event.preventDefault();
      dialog.close();
    });
  }

  /* ---------- Add User / Edit User ---------- */
  const userForm = document.querySelector("[data-user-form]");
  if (userForm) {
    const areaCode = dropdown("area_code", userForm);
    const callerId = dropdown("caller_id", userForm);
    const emergencyId = dropdown("emergency_caller_id", userForm);
    let request = 0;

    areaCode.input.addEventListener("change", async () => {
      const code = areaCode.value;
      const mine = ++request;
      if (!code) {
        callerId.setOptions([], "Choose an area code first", true);
        emergencyId.setOptions([], "Choose an area code first", true);
        return;
      }
      callerId.setOptions([], "Loading numbers…", true);
      emergencyId.setOptions([], "Loading numbers…", true);
      const params = new URLSearchParams({ area_code: code, user: userForm.dataset.userId });
      try {
        const response = await portalFetch(`${userForm.dataset.numbersUrl}?${params}`, {
          headers: { Accept: "application/json" },
        });
        const body = await readJson(response);
        if (mine !== request) return; // a later choice of area code has taken over
        if (!response.ok) {
          callerId.setOptions([], body.error || SOMETHING_WENT_WRONG, true);
          emergencyId.setOptions([], body.error || SOMETHING_WENT_WRONG, true);
          return;
        }
        const placeholder = body.numbers.length ? "Select a number" : "No numbers available";
        callerId.setOptions(body.numbers, placeholder, false);
        emergencyId.setOptions(body.numbers, placeholder, false);
      } catch (e) {
        if (mine === request) callerId.setOptions([], SOMETHING_WENT_WRONG, true);
      }
    });

    const toggle = userForm.querySelector("[data-add-address]");
    const panel = userForm.querySelector("[data-address-panel]");
    const messages = panel.querySelector("[data-address-messages]");
    const address = dropdown("emergency_address", userForm);
    const fields = ["street", "city", "state", "zip_code"];
    toggle.addEventListener("click", () => {
      const open = panel.hidden;
      panel.hidden = !open;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) panel.querySelector("input").focus();
    });
    const showFieldErrors = (errors) => {
      fields.forEach((name) => {
        const input = panel.querySelector(`[name=${name}]`);
        const old = panel.querySelector(`#xm-${name}-error`);
        if (old) old.remove();
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
        if (errors[name]) {
          const p = document.createElement("p");
          p.className = "xm-field-error";
          p.id = `xm-${name}-error`;
          p.textContent = errors[name];
          input.after(p);
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", p.id);
        }
      });
    };
    const saveAddress = async () => {
      const button = panel.querySelector("[data-save-address]");
      const body = new FormData();
      fields.forEach((name) => body.append(name, panel.querySelector(`[name=${name}]`).value));
      button.disabled = true;
      panel.setAttribute("aria-busy", "true");
      try {
        const response = await portalFetch(userForm.dataset.addressUrl, { method: "POST", body });
        const answer = await readJson(response);
        if (!response.ok) {
          showFieldErrors(answer.errors || {});
          say(messages, "alert", response.status >= 500 ? SOMETHING_WENT_WRONG : answer.error || SOMETHING_WENT_WRONG);
          return;
        }
        showFieldErrors({});
        // Saving an address the account already has selects it instead of listing it twice.
        const known = userForm.querySelector(
          `[data-dropdown=emergency_address] [data-value="${answer.id}"], [data-dropdown=emergency_address] option[value="${answer.id}"]`
        );
        if (!known) address.add(answer.id, answer.label);
        address.set(answer.id);
        fields.forEach((name) => { panel.querySelector(`[name=${name}]`).value = ""; });
        panel.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        say(messages, "status", "");
        say(userForm.querySelector("[data-address-saved]"), "status", answer.message);
      } catch (e) {
        if (String(e.message) !== "signed out") say(messages, "alert", SOMETHING_WENT_WRONG);
      } finally {
        button.disabled = false;
        panel.removeAttribute("aria-busy");
      }
    };
    panel.querySelector("[data-save-address]").addEventListener("click", saveAddress);
    // Enter in an address field saves the address, not the whole user.
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.matches("input")) {
        event.preventDefault();
        saveAddress();
      }
    });
  }

  document.body.classList.remove("booting");
})();
