// jobscope web UI: progressive enhancement only. Every page works without this script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Remove buttons: confirm in a dialog instead of the confirmation page.
  const dialog = document.getElementById("confirm-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    const form = dialog.querySelector("form");
    const title = dialog.querySelector("#confirm-title");
    const text = dialog.querySelector("#confirm-text");
    let opener = null;
    document.querySelectorAll("[data-confirm-remove]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        opener = link;
        form.action = link.dataset.confirmRemove;
        const name = link.dataset.name || "this entry";
        title.textContent = "Remove " + name + " from the allowlist?";
        text.textContent = "CI/CD jobs of " + name + " will no longer be able to use their job tokens to access " +
          (link.dataset.project || "this project") + ".";
        dialog.showModal();
        const cancel = dialog.querySelector("[data-close]");
        if (cancel) cancel.focus();
      });
    });
    dialog.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => dialog.close()));
    dialog.addEventListener("close", () => { if (opener) opener.focus(); });
  }

  // Fine-grained policies: shown only when "Fine-grained permissions" is chosen.
  document.querySelectorAll("fieldset.permissions").forEach((fs) => {
    const policies = fs.querySelector("[data-fine-grained]");
    const radios = fs.querySelectorAll('input[name="default_permissions"]');
    const sync = () => {
      const fine = fs.querySelector('input[name="default_permissions"][value="false"]');
      if (policies && fine) policies.hidden = !fine.checked;
    };
    radios.forEach((r) => r.addEventListener("change", sync));
    sync();
  });

  // Path suggestions for the add form, into its <datalist>.
  document.querySelectorAll("input[data-suggest]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    let timer = null;
    let last = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        if (q === last || q.length < 1) return;
        last = q;
        try {
          const url = input.dataset.suggest + "?q=" + encodeURIComponent(q);
          const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
          if (!resp.ok) return;
          const items = await resp.json();
          list.replaceChildren(...items.map((item) => {
            const option = document.createElement("option");
            option.value = item.path;
            option.label = (item.kind === "group" ? "Group: " : "Project: ") + item.name;
            return option;
          }));
        } catch (_) {
          // Suggestions are a convenience: typing the path still works.
        }
      }, 150);
    });
  });
});
