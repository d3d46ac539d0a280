import { ApiError, get, signIn, signOut, token } from "./api";
import { h, link } from "./dom";
import { section } from "./format";
import { lang, setLang, t } from "./i18n";
import { batchPage } from "./pages/batch";
import { driftPage } from "./pages/drift";
import { hostsPage } from "./pages/hosts";
import { providersPage } from "./pages/providers";

/**
 * The board: hash routes (#/hosts, #/providers, #/batches/ID, #/drift), each a read of relay's API.
 * Nothing here writes; the token is asked for once per tab.
 */
const root = document.getElementById("app") as HTMLElement;

function route(): { page: string; arg?: string } {
  const m = /^#\/(hosts|providers|drift|batches)(?:\/([^/?#]+))?/.exec(location.hash);
  if (!m) return { page: "hosts" };
  return { page: m[1] as string, ...(m[2] ? { arg: decodeURIComponent(m[2]) } : {}) };
}

function header(active: string): HTMLElement {
  const nav = (page: string, label: string) =>
    h("li", {}, Object.assign(link(`/${page}`, label), { className: active === page ? "active" : "" }));
  const langButton = h("button", { type: "button", class: "ghost", id: "lang" }, t("nav.lang"));
  langButton.addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    void render();
  });
  const out = h("button", { type: "button", class: "ghost", id: "signout" }, t("nav.signout"));
  out.addEventListener("click", () => {
    signOut();
    void render();
  });
  return h(
    "header",
    {},
    h("strong", { class: "brand" }, t("title")),
    h(
      "nav",
      {},
      h(
        "ul",
        {},
        nav("hosts", t("nav.hosts")),
        nav("providers", t("nav.providers")),
        nav("drift", t("nav.drift")),
      ),
    ),
    h("div", { class: "tools" }, langButton, out),
  );
}

function signInForm(message?: string): HTMLElement {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    required: "",
  }) as HTMLInputElement;
  const form = h(
    "form",
    { class: "signin card" },
    h("h2", {}, t("signin.title")),
    h("p", {}, t("signin.lead")),
    h("label", { for: "token" }, t("signin.token")),
    input,
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    h("button", { type: "submit" }, t("signin.submit")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = input.value.trim();
    input.value = "";
    try {
      await get("/api/hosts?limit=1", value);
      signIn(value);
      void render();
    } catch (err) {
      root.replaceChildren(
        header("signin"),
        signInForm(err instanceof ApiError && err.status === 401 ? t("signin.bad") : String(err)),
      );
    }
  });
  return form;
}

let generation = 0;

async function render(): Promise<void> {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  const mine = ++generation;
  if (!token()) {
    root.replaceChildren(header("signin"), signInForm());
    return;
  }
  const r = route();
  root.replaceChildren(
    header(r.page),
    h("main", { "aria-busy": "true" }, h("p", { class: "muted" }, t("loading"))),
  );
  let body: HTMLElement;
  try {
    body =
      r.page === "batches" && r.arg
        ? await batchPage(r.arg)
        : r.page === "providers"
          ? await providersPage()
          : r.page === "drift"
            ? await driftPage()
            : await hostsPage();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      root.replaceChildren(header("signin"), signInForm(t("signin.bad")));
      return;
    }
    const detail = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
    body = section(t("error.load"), h("p", { class: "error", role: "alert" }, detail));
  }
  if (mine !== generation) return; // a newer navigation has rendered since
  root.replaceChildren(header(r.page), h("main", { "data-page": r.page }, body));
}

window.addEventListener("hashchange", () => void render());
void render();
